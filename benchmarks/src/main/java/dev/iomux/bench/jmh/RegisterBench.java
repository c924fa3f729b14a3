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
 * Registration churn, with a selectNow after the changes so that every backend has applied them to the
 * kernel (select and poll apply changes at the next select; epoll at once, with epoll_ctl; the JDK
 * applies cancelled keys and interest changes at the next select). 100 other idle registrations sit in
 * the selector. The selectNow alone is in {@link SelectNowBench}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class RegisterBench extends BackendState {
    /** select, poll, epoll (iomux) or nio (the JDK's default selector). */
    @Param({"select", "poll", "epoll", "nio"})
    public String backend;

    private static final int OTHERS = 100;
    private int fd;
    private SelectionKey nioKey;
    private final ReadyHandler handler = (key, events) -> { };

    /**
     * Opens the selector with the idle registrations; the churned descriptor is the last pair's.
     *
     * @throws IOException if the kernel refuses
     */
    @Setup(Level.Trial)
    public void open() throws IOException {
        if (backend.equals("nio")) {
            nio = java.nio.channels.Selector.open();
            nioPairs = new NioPairs(OTHERS + 1);
            for (int i = 0; i < OTHERS; i++) {
                nioPairs.src[i].register(nio, SelectionKey.OP_READ);
            }
            nioKey = nioPairs.src[OTHERS].register(nio, SelectionKey.OP_READ);
            return;
        }
        selector = Selectors.open(backend);
        pairs = new Scaling.Pairs(OTHERS + 1);
        for (int i = 0; i < OTHERS; i++) {
            selector.register(pairs.rfd[i], Events.READ);
        }
        fd = pairs.rfd[OTHERS];
        selector.register(fd, Events.READ);
    }

    /**
     * Unregister, selectNow, register again, selectNow (JDK: cancel, selectNow, register, selectNow).
     *
     * @return keys delivered (0)
     * @throws IOException if the kernel refuses
     */
    @Benchmark
    public int unregisterRegister() throws IOException {
        if (nio != null) {
            nioKey.cancel();
            nio.selectNow();
            nioKey = nioPairs.src[OTHERS].register(nio, SelectionKey.OP_READ);
            return nio.selectNow();
        }
        selector.unregister(fd);
        selector.selectNow(handler);
        selector.register(fd, Events.READ);
        return selector.selectNow(handler);
    }

    /**
     * Two interest changes and a selectNow: READ to READ|PRIORITY and back (JDK, which has no priority
     * interest: OP_READ to 0 and back).
     *
     * @return keys delivered (0)
     * @throws IOException if the kernel refuses
     */
    @Benchmark
    public int modifyTwice() throws IOException {
        if (nio != null) {
            nioKey.interestOps(0);
            nioKey.interestOps(SelectionKey.OP_READ);
            return nio.selectNow();
        }
        selector.modify(fd, Events.READ | Events.PRIORITY);
        selector.modify(fd, Events.READ);
        return selector.selectNow(handler);
    }
}
