package dev.iomux.bench.jmh;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

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

import dev.iomux.ReadyHandler;
import dev.iomux.Selector;
import dev.iomux.Selectors;

/**
 * A wake-up round trip between two threads: the benchmark thread calls {@code wakeup()} and spins until
 * the selecting thread, blocked in a select with no timeout, has returned from it (and, for the next
 * round, gone back in). It measures the wake-up pipe's write (after the selector checks, with fstat(2),
 * that its descriptors are still its own), the kernel waking the other thread, its return through the
 * selector, and the hand-back through a volatile counter.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class WakeupBench {
    /** select, poll, epoll (iomux) or nio (the JDK's default selector). */
    @Param({"select", "poll", "epoll", "nio"})
    public String backend;

    private Selector selector;
    private java.nio.channels.Selector nio;
    private Thread loop;
    private volatile boolean running;
    private final AtomicLong returns = new AtomicLong();
    private final ReadyHandler handler = (key, events) -> { };

    /**
     * Opens the selector and starts the selecting thread.
     *
     * @throws IOException if the kernel refuses
     */
    @Setup(Level.Trial)
    public void open() throws IOException {
        if (backend.equals("nio")) {
            nio = java.nio.channels.Selector.open();
        } else {
            selector = Selectors.open(backend);
        }
        running = true;
        loop = new Thread(() -> {
            try {
                while (running) {
                    if (nio != null) {
                        nio.select();
                    } else {
                        selector.select(handler);
                    }
                    returns.incrementAndGet();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "selecting");
        loop.setDaemon(true);
        loop.start();
    }

    /**
     * Stops the selecting thread and closes the selector.
     *
     * @throws InterruptedException if interrupted while joining
     */
    @TearDown(Level.Trial)
    public void close() throws InterruptedException {
        running = false;
        if (nio != null) {
            nio.wakeup();
        } else {
            selector.wakeup();
        }
        loop.join(10_000);
        try {
            if (nio != null) {
                nio.close();
            }
        } catch (IOException ignored) {
            // the fork ends
        }
        if (selector != null) {
            selector.close();
        }
    }

    /**
     * One round trip.
     *
     * @return the selecting thread's return count
     */
    @Benchmark
    public long roundTrip() {
        long before = returns.get();
        if (nio != null) {
            nio.wakeup();
        } else {
            selector.wakeup();
        }
        long now;
        while ((now = returns.get()) == before) {
            Thread.onSpinWait();
        }
        return now;
    }
}
