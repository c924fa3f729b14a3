package dev.iomux.conformance;

import static dev.iomux.Events.READ;

import java.time.Duration;

import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.io.Descriptors;

/**
 * The child JVM of EINTR-STOP: opens a selector of the provider class named in {@code args[0]}, registers
 * an idle pipe, and {@code args[2]} times (default once) prints {@code selecting}, selects for
 * {@code args[1]} ms while its parent stops and continues it, and prints {@code selected <keys> in <ms> ms}.
 */
public final class StopChild {
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
        int[] p = Descriptors.pipe();
        try (Selector sel = provider.open()) {
            sel.register(p[0], READ);
            for (int round = 0; round < rounds; round++) {
                System.out.println("selecting");
                System.out.flush();
                long start = System.nanoTime();
                int keys = sel.select(Duration.ofMillis(timeout)).size();
                System.out.println("selected " + keys + " in " + (System.nanoTime() - start) / 1_000_000 + " ms");
                System.out.flush();
            }
        } finally {
            Descriptors.close(p[0]);
            Descriptors.close(p[1]);
        }
    }
}
