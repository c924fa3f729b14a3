package dev.iomux.bench.jmh;

import java.io.IOException;
import java.nio.channels.SelectionKey;
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
import org.openjdk.jmh.annotations.Warmup;

import dev.iomux.Events;
import dev.iomux.ReadyHandler;
import dev.iomux.Selectors;
import dev.iomux.bench.Scaling;

/**
 * selectNow() with 1 and 1000 idle registrations (socketpair read ends with nothing to read) on each iomux
 * backend and on the JDK's own selector: the fixed cost of one trip into the kernel and back, and how it
 * grows with registrations that are not ready. Run with {@code -prof gc}: the handler form must allocate
 * 0 bytes per call; the list form allocates its (empty) list.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class SelectNowBench extends BackendState {
    /** select, poll, epoll (iomux) or nio (the JDK's default selector, EPollSelectorImpl on Linux). */
    @Param({"select", "poll", "epoll", "nio"})
    public String backend;

    /** Idle registrations. */
    @Param({"1", "1000"})
    public int registrations;

    private int seen;
    private final ReadyHandler handler = (key, events) -> seen++;

    /**
     * Opens the selector and registers the idle read ends.
     *
     * @throws IOException if the kernel refuses
     */
    @Setup(Level.Trial)
    public void open() throws IOException {
        if (backend.equals("nio")) {
            nio = java.nio.channels.Selector.open();
            nioPairs = new NioPairs(registrations);
            for (int i = 0; i < registrations; i++) {
                nioPairs.src[i].register(nio, SelectionKey.OP_READ, i);
            }
            return;
        }
        selector = Selectors.open(backend);
        pairs = new Scaling.Pairs(registrations);
        for (int fd : pairs.rfd) {
            selector.register(fd, Events.READ);
        }
    }

    /**
     * The allocation-free form; JDK NIO: {@code selectNow()} and its selected-key set.
     *
     * @return keys delivered (0)
     * @throws IOException if the call fails
     */
    @Benchmark
    public int selectNowHandler() throws IOException {
        if (nio != null) {
            return nio.selectNow();
        }
        return selector.selectNow(handler);
    }

    /**
     * The list form: {@code List<Ready> selectNow()}; JDK NIO: {@code selectNow(Consumer)}.
     *
     * @return keys delivered (0)
     * @throws IOException if the call fails
     */
    @Benchmark
    public int selectNowList() throws IOException {
        if (nio != null) {
            return nio.selectNow(k -> seen++);
        }
        return selector.selectNow().size();
    }
}
