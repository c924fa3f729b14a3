package dev.iomux.bench.jmh;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.iomux.Events;
import dev.iomux.ReadyHandler;
import dev.iomux.Selectors;
import dev.iomux.bench.RawEpoll;
import dev.iomux.bench.Scaling;
import dev.iomux.io.Descriptors;

/**
 * A selectNow that delivers 100 ready keys: 100 socketpairs, each with one unread byte, registered
 * level-triggered, so that every call reports all of them. The per-event delivery cost, and (with
 * {@code -prof gc}) the allocation of a select in steady state with events, which must be 0 bytes.
 *
 * <p>{@code raw-epoll} is the floor under iomux's epoll backend: the same 100 pairs in an epoll instance
 * of its own, one {@code epoll_wait} through the same binding ({@code Native.epollWait}) and a walk over
 * the event array that sums the descriptors, as Netty's raw layer or a C loop does. epoll minus
 * raw-epoll, divided by 100, is what iomux's bookkeeping costs per ready event (docs/PERFORMANCE.md).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class SelectReadyBench extends BackendState {
    /** select, poll, epoll (iomux) or nio (the JDK's default selector). */
    @Param({"select", "poll", "epoll", "nio", "raw-epoll"})
    public String backend;

    private static final int READY = 100;
    private long sum;
    private RawEpoll raw;
    private final int[] count = new int[1];
    private final ReadyHandler handler = (key, events) -> sum += key.fd();

    /**
     * Opens the selector, registers the pairs and makes each readable.
     *
     * @throws IOException if the kernel refuses
     */
    @Setup(Level.Trial)
    public void open() throws IOException {
        ByteBuffer one = ByteBuffer.allocateDirect(1);
        if (backend.equals("nio")) {
            nio = java.nio.channels.Selector.open();
            nioPairs = new NioPairs(READY);
            for (int i = 0; i < READY; i++) {
                nioPairs.src[i].register(nio, SelectionKey.OP_READ, i);
                nioPairs.sink[i].write(one.clear());
            }
            return;
        }
        if (backend.equals("raw-epoll")) {
            pairs = new Scaling.Pairs(READY);
            for (int i = 0; i < READY; i++) {
                Descriptors.write(pairs.wfd[i], one.clear());
            }
            raw = new RawEpoll(pairs.rfd);
            return;
        }
        selector = Selectors.open(backend);
        pairs = new Scaling.Pairs(READY);
        for (int i = 0; i < READY; i++) {
            selector.register(pairs.rfd[i], Events.READ);
            Descriptors.write(pairs.wfd[i], one.clear());
        }
    }

    /**
     * One selectNow delivering 100 keys (JDK: selectNow and a walk over selectedKeys, cleared as it goes).
     *
     * @return keys delivered
     * @throws IOException if the call fails
     */
    @Benchmark
    public int selectNow100Ready() throws IOException {
        if (nio != null) {
            int n = nio.selectNow();
            for (Iterator<SelectionKey> it = nio.selectedKeys().iterator(); it.hasNext(); ) {
                sum += (Integer) it.next().attachment();
                it.remove();
            }
            return n;
        }
        if (raw != null) {
            sum += raw.walk(count);
            return count[0];
        }
        return selector.selectNow(handler);
    }

    /** Closes the raw epoll instance; the base closes the pairs. */
    @TearDown(Level.Trial)
    public void closeRaw() {
        if (raw != null) {
            raw.close();
        }
    }
}
