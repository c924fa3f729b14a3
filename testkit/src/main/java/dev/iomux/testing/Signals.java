package dev.iomux.testing;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real signals for EINTR tests: a Java handler for a harmless signal, and pthread_kill(3) aimed at one
 * thread through the testkit's own libc binding ({@link SignalLibC}).
 *
 * <p>A signal with a handler interrupts a thread blocked in select, poll or epoll_wait, which fail with
 * EINTR whatever SA_RESTART says (signal(7): these calls are never restarted). SIGWINCH is harmless (a
 * terminal resize) and neither the JVM nor the test tools use it. sun.misc.Signal is reached reflectively
 * so that the build stays free of "internal proprietary API" warnings.
 */
public final class Signals {
    /** SIGWINCH on every Linux architecture. */
    public static final int SIGWINCH = 28;

    private static final AtomicInteger HANDLED = new AtomicInteger();
    private static boolean installed;

    private Signals() {
    }

    /**
     * Installs (once) a Java handler for SIGWINCH that only counts deliveries.
     *
     * @throws ReflectiveOperationException if this JDK has no {@code sun.misc.Signal}
     */
    public static synchronized void installWinchHandler() throws ReflectiveOperationException {
        if (installed) {
            return;
        }
        Class<?> signal = Class.forName("sun.misc.Signal");
        Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
        InvocationHandler counting = (proxy, method, args) -> {
            if (method.getName().equals("handle")) {
                HANDLED.incrementAndGet();
            }
            return null;
        };
        Object handler = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handlerType}, counting);
        Object winch = signal.getConstructor(String.class).newInstance("WINCH");
        signal.getMethod("handle", signal, handlerType).invoke(null, winch, handler);
        installed = true;
    }

    /** @return how many SIGWINCH the handler has seen */
    public static int handled() {
        return HANDLED.get();
    }

    /** @return the calling thread's pthread_t */
    public static long self() {
        return SignalLibC.C.pthread_self();
    }

    /**
     * Sends SIGWINCH to a thread.
     *
     * @param pthread its pthread_t, from {@link #self()}
     */
    public static void interrupt(long pthread) {
        int rc = SignalLibC.C.pthread_kill(pthread, SIGWINCH);
        if (rc != 0) {
            throw new IllegalStateException("pthread_kill failed with error " + rc);
        }
    }
}
