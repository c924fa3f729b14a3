package dev.iomux.conformance;

import static dev.iomux.Events.READ;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.io.Descriptors;

/**
 * The child JVM of EINTR-STOP: opens a selector of the provider class named in {@code args[0]}, registers
 * an idle pipe, and {@code args[2]} times (default once) prints {@code selecting}, selects for
 * {@code args[1]} ms while its parent stops and continues it, prints
 * {@code selected <keys> in <ms> ms, paused <from> to <to> ms}, and waits for a line on its standard input
 * before it goes on (or ends, after the last round): a parent late with its stop then stops a child that
 * waits for it, never one that has moved on or exited.
 *
 * <p>The pause is when the child was stopped, by its own clock: the longest gap between the ticks of a
 * thread that ticks every few milliseconds, in ms after the select began. A loaded machine delays the
 * parent's signals, so the parent's clock cannot say when the stop landed; the child's can.
 */
public final class StopChild {
    private static final long TICK_MILLIS = 5;
    private static final List<Long> TICKS = new ArrayList<>();

    private StopChild() {
    }

    /**
     * @param args the provider's class name (with a public no-argument constructor), the timeout in ms, and
     *             optionally how many selects to make
     * @throws Exception on any failure, which the parent sees as a missing result line
     */
    public static void main(String[] args) throws Exception {
        SelectorProvider provider = (SelectorProvider) Class.forName(args[0]).getConstructor().newInstance();
        long timeout = Long.parseLong(args[1]);
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        BufferedReader parent = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        Thread ticker = new Thread(StopChild::tick, "stop-child-ticker");
        ticker.setDaemon(true);
        ticker.start();
        int[] p = Descriptors.pipe();
        try (Selector sel = provider.open()) {
            sel.register(p[0], READ);
            // A first call links the native wait: in a fresh JVM that can take longer than the parent
            // waits before its stop, which would then land before the wait, not in it.
            sel.selectNow();
            for (int round = 0; round < rounds; round++) {
                System.out.println("selecting");
                System.out.flush();
                long start = System.nanoTime();
                synchronized (TICKS) {
                    TICKS.clear();
                }
                int keys = sel.select(Duration.ofMillis(timeout)).size();
                long end = System.nanoTime();
                long[] pause = longestPause(start, end);
                System.out.println("selected " + keys + " in " + millis(end - start) + " ms, paused "
                        + millis(pause[0] - start) + " to " + millis(pause[1] - start) + " ms");
                System.out.flush();
                parent.readLine();
            }
        } finally {
            Descriptors.close(p[0]);
            Descriptors.close(p[1]);
        }
    }

    private static void tick() {
        for (;;) {
            try {
                Thread.sleep(TICK_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (TICKS) {
                TICKS.add(System.nanoTime());
            }
        }
    }

    /** @return the longest gap between ticks in [start, end], the ends counting as ticks */
    private static long[] longestPause(long start, long end) {
        long[] pause = {start, start};
        long previous = start;
        List<Long> ticks;
        synchronized (TICKS) {
            ticks = new ArrayList<>(TICKS);
        }
        ticks.add(end);
        for (long t : ticks) {
            if (t > start && t <= end) {
                if (t - previous > pause[1] - pause[0]) {
                    pause[0] = previous;
                    pause[1] = t;
                }
                previous = t;
            }
        }
        return pause;
    }

    private static long millis(long nanos) {
        return nanos / 1_000_000;
    }
}
