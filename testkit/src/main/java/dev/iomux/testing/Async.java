package dev.iomux.testing;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

import dev.iomux.Ready;
import dev.iomux.Selector;

/**
 * Runs blocking test work (a select that waits, a client that reads) on its own thread.
 *
 * <p>Not {@code CompletableFuture.runAsync(task)}: its default pool may have a single thread on a 2-core
 * machine, and two blocking tasks on it deadlock.
 */
public final class Async {
    private static final ExecutorService THREADS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "iomux-test-async");
        t.setDaemon(true);
        return t;
    });

    private Async() {
    }

    /**
     * Runs {@code task} on a thread of its own.
     *
     * @param task what to run
     * @return its completion
     */
    public static CompletableFuture<Void> run(Runnable task) {
        return CompletableFuture.runAsync(task, THREADS);
    }

    /**
     * Computes {@code task} on a thread of its own.
     *
     * @param <T> the result's type
     * @param task what to compute
     * @return its result, to come
     */
    public static <T> CompletableFuture<T> supply(Supplier<T> task) {
        return CompletableFuture.supplyAsync(task, THREADS);
    }

    /**
     * Starts {@code sel.select()} (no timeout) on a thread of its own and returns once it has had 100 ms to
     * block in the kernel.
     *
     * @param sel the selector
     * @return what the select returns, to come
     * @throws InterruptedException if this thread is interrupted while it waits
     */
    public static CompletableFuture<List<Ready>> selectBlocked(Selector sel) throws InterruptedException {
        CountDownLatch selecting = new CountDownLatch(1);
        CompletableFuture<List<Ready>> blocked = supply(() -> {
            selecting.countDown();
            try {
                return sel.select();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        selecting.await();
        Thread.sleep(100);
        return blocked;
    }
}
