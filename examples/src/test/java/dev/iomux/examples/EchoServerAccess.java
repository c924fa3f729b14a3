package dev.iomux.examples;

import java.io.IOException;
import java.util.function.BooleanSupplier;

/** Lets the reliability tests (another package) run the README's echo server in this process. */
public final class EchoServerAccess {
    private EchoServerAccess() {
    }

    /** Runs {@link ReadmeEcho}'s server on {@code listener} while {@code running} says so. */
    public static void serve(int listener, BooleanSupplier running) throws IOException {
        ReadmeEcho.serve(listener, running);
    }
}
