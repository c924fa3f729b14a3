package dev.iomux.spi;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs a backend's kernel wait ({@link AbstractSelector#implSelect}) so that a select in a virtual thread
 * does not hold its carrier while it blocks. One per selector; used by its selecting thread only.
 *
 * <p>A virtual thread inside a native call is pinned to its carrier (JEP 444), and the scheduler does
 * not replace a pinned carrier: it adds a spare only around the JDK's own blocking calls, through an
 * internal API, and {@code ForkJoinPool.managedBlock} compensates only when the caller is a
 * {@code ForkJoinWorkerThread}, which a virtual thread never is (so in the sources of JDK 21 and 25). With one carrier,
 * or as many selecting virtual threads as carriers, nothing else runs, not even the thread that would
 * call {@code wakeup()} or {@code close()}. So a virtual thread hands a wait that may block to a platform
 * thread and parks (which frees the carrier) until that call has returned. Everything else of a select
 * stays on the calling thread.
 *
 * <ul>
 *   <li>Platform threads, and waits with a zero timeout (which never block), call the kernel inline as
 *       before: the only new cost is one {@code Thread.isVirtual()} check per blocking select.</li>
 *   <li>A virtual thread first asks the kernel without waiting, inline, as the JDK's own selector does
 *       for virtual threads: what is ready now costs what it costs a platform thread. Only if nothing is
 *       ready does it hand the wait over, on the next call: it returns 0 (a wait that returned early),
 *       so that the base prepares the native sets again and calls back with the time left.</li>
 *   <li>The virtual thread returns only after the kernel call has returned, whatever happens, and it
 *       holds the select lock throughout: close() still frees native memory only once no thread is in the
 *       kernel with it. Each call of the hook runs whole on one thread, so errno is read on the thread
 *       whose call set it.</li>
 *   <li>{@code Thread.interrupt()} does not end a select on any thread (use {@code wakeup()}). A park
 *       returns at once while the interrupt status is set, so the status is cleared while waiting, which
 *       keeps the wait from spinning, and set again before returning.</li>
 *   <li>The pool never queues: each wait gets a thread at once, an idle one or a new one, so no wait
 *       ever waits for another. It holds at most as many threads as selects blocked in virtual threads at
 *       once, plus those still idle; they are daemons, named {@code iomux-kernel-wait-N}, and end after
 *       {@link #KEEP_ALIVE_SECONDS} idle.</li>
 * </ul>
 */
final class KernelWait {
    /** How long an idle pool thread lives: a select loop reuses one, an idle program keeps none. */
    static final long KEEP_ALIVE_SECONDS = 30;

    /** {@code Thread::isVirtual}, JDK 21; null before (this library runs on 17). */
    private static final MethodHandle IS_VIRTUAL = isVirtualHandle();

    /**
     * The last call was a probe that found nothing: the next one waits. Select lock. A flag left over
     * by a select that ended otherwise (time up, closed) only saves the next select its probe.
     */
    private boolean probed;

    /**
     * Waits in the kernel for a select of {@code selector}: inline, or on a pool thread for a virtual
     * thread whose wait may block.
     *
     * @param selector     the selector; its select lock is held by the caller
     * @param timeoutNanos as for {@link AbstractSelector#implSelect}
     * @return what {@link AbstractSelector#implSelect} returned; 0 after a probe that found nothing
     * @throws IOException what {@link AbstractSelector#implSelect} threw
     */
    int run(AbstractSelector selector, long timeoutNanos) throws IOException {
        if (timeoutNanos == 0 || !isVirtual(Thread.currentThread())) {
            return selector.implSelect(timeoutNanos);
        }
        if (!probed) {
            int n = selector.implSelect(0);
            probed = n == 0;
            return n;
        }
        probed = false;
        return new Handoff(selector, timeoutNanos).await();
    }

    static boolean isVirtual(Thread thread) {
        if (IS_VIRTUAL == null) {
            return false;
        }
        try {
            return (boolean) IS_VIRTUAL.invokeExact(thread);
        } catch (Throwable cannotHappen) {
            throw new AssertionError(cannotHappen);
        }
    }

    private static MethodHandle isVirtualHandle() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual",
                    MethodType.methodType(boolean.class));
        } catch (NoSuchMethodException | IllegalAccessException beforeJdk21) {
            return null;
        }
    }

    /** One wait handed from a virtual thread to a pool thread. */
    private static final class Handoff implements Runnable {
        private final AbstractSelector selector;
        private final long timeoutNanos;
        private final Thread waiter = Thread.currentThread();
        private int result;               // written before 'done', read after it
        private Throwable failure;        // likewise
        private volatile boolean done;

        Handoff(AbstractSelector selector, long timeoutNanos) {
            this.selector = selector;
            this.timeoutNanos = timeoutNanos;
        }

        /** Pool thread: the kernel call, then the waiter is told. */
        @Override
        public void run() {
            try {
                result = selector.implSelect(timeoutNanos);
            } catch (Throwable t) {
                failure = t;
            } finally {
                done = true;
                LockSupport.unpark(waiter);
            }
        }

        /** Virtual thread: parks, freeing its carrier, until {@link #run} is over. */
        int await() throws IOException {
            Pool.EXECUTOR.execute(this); // if it throws, no thread is in the kernel
            boolean interrupted = false;
            while (!done) {
                LockSupport.park(this);
                interrupted |= Thread.interrupted(); // else park returns at once, again and again
            }
            if (interrupted) {
                waiter.interrupt();
            }
            if (failure == null) {
                return result;
            }
            if (failure instanceof IOException) {
                throw (IOException) failure;
            }
            if (failure instanceof RuntimeException) {
                throw (RuntimeException) failure;
            }
            if (failure instanceof Error) {
                throw (Error) failure;
            }
            throw new IllegalStateException("the kernel wait failed", failure);
        }
    }

    /** The pool, created on first use: programs without virtual threads never start it. */
    private static final class Pool {
        private static final AtomicInteger COUNT = new AtomicInteger();

        /** A cached pool: no queue (a SynchronousQueue hands over or a thread is added), no maximum. */
        static final ExecutorService EXECUTOR = new ThreadPoolExecutor(0, Integer.MAX_VALUE,
                KEEP_ALIVE_SECONDS, TimeUnit.SECONDS, new SynchronousQueue<>(), Pool::newThread);

        private Pool() {
        }

        private static Thread newThread(Runnable task) {
            // No inherited thread-locals or class loader: the thread outlives the caller that started it.
            Thread t = new Thread(null, task, "iomux-kernel-wait-" + COUNT.incrementAndGet(), 0, false);
            t.setDaemon(true);
            t.setContextClassLoader(null);
            return t;
        }
    }
}
