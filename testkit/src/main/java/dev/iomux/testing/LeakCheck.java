package dev.iomux.testing;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import dev.iomux.spi.NativeBuffer;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test that leaves descriptors open or native blocks allocated.
 *
 * <p>Before each test it records every open descriptor with what it points to (/proc/self/fd), and the
 * count of live {@link NativeBuffer} blocks; after the test, both must be back. Descriptors the JVM opens
 * by itself on first use (jar files of newly loaded classes) are not leaks and are ignored. Waits up to
 * two seconds for threads the test started to finish closing.
 */
public final class LeakCheck implements BeforeEachCallback, AfterEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LeakCheck.class);

    static {
        warmUpJdk();
    }

    /**
     * Opens, once, what the JDK opens lazily and keeps for the life of the process, so that the first
     * test to touch it is not blamed: the management beans (which open /dev/random, /dev/urandom and a
     * socket on first use), SecureRandom (temporary file names), name resolution, NIO's pre-close socket.
     */
    private static void warmUpJdk() {
        try {
            var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            threads.getCurrentThreadAllocatedBytes();
            threads.getCurrentThreadCpuTime();
            new java.security.SecureRandom().nextInt();
            java.net.InetAddress.getByName("::1");
            java.net.InetAddress.getByName("127.0.0.1");
            Files.delete(Files.createTempFile("iomux-warmup", ".tmp"));
            // The first NIO channel makes sun.nio.ch open its pre-close socket pair, kept for good.
            var pipe = java.nio.channels.Pipe.open();
            pipe.source().close();
            pipe.sink().close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        context.getStore(NS).put("fds", openDescriptors());
        context.getStore(NS).put("blocks", NativeBuffer.liveBlocks());
    }

    @Override
    @SuppressWarnings("unchecked")
    public void afterEach(ExtensionContext context) throws Exception {
        Map<Integer, String> before = context.getStore(NS).get("fds", Map.class);
        long blocksBefore = context.getStore(NS).get("blocks", Long.class);
        long deadline = System.nanoTime() + 2_000_000_000L;
        Map<Integer, String> leaked;
        long blocks;
        do {
            leaked = leaked(before, openDescriptors());
            blocks = NativeBuffer.liveBlocks();
            if (leaked.isEmpty() && blocks == blocksBefore) {
                return;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        if (context.getExecutionException().isPresent()) {
            return; // the test's own failure says more; its clean-up may not have run
        }
        fail("test leaked %d descriptor(s) %s (%d open before, %d after) and %d native block(s)",
                leaked.size(), leaked, before.size(), openDescriptors().size(), blocks - blocksBefore);
    }

    /**
     * Returns the descriptors open in {@code after} and not in {@code before} (or pointing elsewhere now),
     * ignoring the JVM's jar files and the listing of /proc/self/fd itself.
     *
     * @param before a listing of {@link #openDescriptors()}
     * @param after a later listing
     * @return the leaked descriptors and what they point to
     */
    public static Map<Integer, String> leaked(Map<Integer, String> before, Map<Integer, String> after) {
        Map<Integer, String> leaked = new TreeMap<>();
        after.forEach((fd, target) -> {
            if (!target.equals(before.get(fd)) && !target.endsWith(".jar") && !isOwnListing(target)) {
                leaked.put(fd, target);
            }
        });
        return leaked;
    }

    /** The descriptors of a /proc/self/fd listing in progress (ours) point at /proc/PID/fd. */
    private static boolean isOwnListing(String target) {
        return target.startsWith("/proc/") && target.endsWith("/fd");
    }

    /**
     * Lists the open descriptors of this process.
     *
     * @return every open descriptor and what it points to, e.g. {@code 7 -> pipe:[1234]}
     * @throws IOException if /proc/self/fd cannot be read
     */
    public static Map<Integer, String> openDescriptors() throws IOException {
        Map<Integer, String> fds = new TreeMap<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : dir) {
                String target;
                try {
                    target = Files.readSymbolicLink(p).toString();
                } catch (IOException gone) {
                    continue; // the directory stream's own descriptor, already closed
                }
                fds.put(Integer.parseInt(p.getFileName().toString()), target);
            }
        }
        return fds;
    }
}
