package dev.iomux.bench.jmh;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/** UNIX-domain SocketChannel pairs, non-blocking, for the JDK NIO rows of the JMH benchmarks. */
final class NioPairs {
    final SocketChannel[] src;
    final SocketChannel[] sink;

    NioPairs(int n) throws IOException {
        src = new SocketChannel[n];
        sink = new SocketChannel[n];
        Path dir = Files.createTempDirectory("iomux-jmh");
        Path path = dir.resolve("s");
        try (ServerSocketChannel ss = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ss.bind(UnixDomainSocketAddress.of(path), 128);
            for (int i = 0; i < n; i++) {
                sink[i] = SocketChannel.open(ss.getLocalAddress());
                src[i] = ss.accept();
                src[i].configureBlocking(false);
                sink[i].configureBlocking(false);
            }
        } finally {
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir);
        }
    }

    void close() {
        for (SocketChannel[] side : new SocketChannel[][] {src, sink}) {
            for (SocketChannel c : side) {
                try {
                    if (c != null) {
                        c.close();
                    }
                } catch (IOException ignored) {
                    // the fork ends
                }
            }
        }
    }
}
