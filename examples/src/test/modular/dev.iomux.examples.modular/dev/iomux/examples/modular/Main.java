package dev.iomux.examples.modular;

import dev.iomux.Events;
import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;

/**
 * On every backend found, registers the read end of a pipe, writes a byte into it from a direct buffer
 * (the java.lang.foreign path on JDK 22+), selects, reads the byte back and closes; prints one line per
 * backend and the module iomux was loaded from. Exits 1 at the first thing that is not as expected.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        Module api = Selector.class.getModule();
        System.out.println("module " + api.getName() + (api.getDescriptor().isAutomatic() ? " automatic" : " explicit"));
        for (SelectorProvider provider : Selectors.providers()) {
            System.out.println(provider.name() + ": " + roundTrip(provider.name()));
        }
        System.out.println("default: " + Selectors.defaultProvider().name());
    }

    private static String roundTrip(String backend) throws Exception {
        int[] pipe = Descriptors.pipe();
        try (Selector selector = Selectors.open(backend)) {
            selector.register(pipe[0], Events.READ);
            ByteBuffer out = ByteBuffer.allocateDirect(1).put((byte) 42).flip();
            if (Descriptors.write(pipe[1], out) != 1) {
                throw new AssertionError(backend + ": the byte was not written");
            }
            List<Ready> ready = selector.select(Duration.ofSeconds(10));
            if (ready.size() != 1 || ready.get(0).fd() != pipe[0] || !ready.get(0).isReadable()) {
                throw new AssertionError(backend + ": expected the pipe readable, got " + ready);
            }
            ByteBuffer in = ByteBuffer.allocateDirect(2);
            int n = Descriptors.read(pipe[0], in);
            if (n != 1 || in.get(0) != 42) {
                throw new AssertionError(backend + ": read " + n + " bytes");
            }
            return "readable, read 1 byte, " + selector.getClass().getModule().getName();
        } finally {
            Descriptors.close(pipe[0]);
            Descriptors.close(pipe[1]);
        }
    }
}
