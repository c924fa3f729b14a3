package dev.iomux.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.FileChannel;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.iomux.testing.LeakCheck;
import jnr.unixsocket.UnixSocketChannel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ChannelDescriptors}: the descriptor behind jnr and JDK channels. Whether the JDK lets iomux read its
 * descriptors depends on the JVM's {@code --add-opens} options, so the JDK tests accept exactly two outcomes:
 * the right descriptor, or an {@link UnsupportedOperationException} naming the option. A child JVM started
 * with the options checks the first outcome even when this JVM has no such option.
 */
@ExtendWith(LeakCheck.class)
class ChannelDescriptorsTest {
    private static final String NIO_OPTION = "--add-opens java.base/sun.nio.ch=ALL-UNNAMED";
    private static final String IO_OPTION = "--add-opens java.base/java.io=ALL-UNNAMED";

    @TempDir
    Path tmp;

    /**
     * The JDK opens one socket for good the first time a NIO channel is made (sun.nio.ch keeps it as the
     * target of its pre-close dup2). JDK 17 under surefire has done that before the tests start; JDK 25 has
     * not, and LeakCheck would blame the first test here. Make it happen before LeakCheck looks.
     */
    @BeforeAll
    static void initialiseTheJdkChannels() throws IOException {
        Pipe pipe = Pipe.open();
        pipe.sink().close();
        pipe.source().close();
    }

    @Test
    void optionConstantsNameTheExactJvmOptions() {
        assertThat(ChannelDescriptors.ADD_OPENS_NIO).isEqualTo(NIO_OPTION);
        assertThat(ChannelDescriptors.ADD_OPENS_IO).isEqualTo(IO_OPTION);
    }

    @Test
    void jnrUnixSocketChannelsExposeTheirDescriptor() throws IOException {
        UnixSocketChannel[] pair = UnixSocketChannel.pair();
        try {
            int a = ChannelDescriptors.of(pair[0]);
            int b = ChannelDescriptors.of(pair[1]);
            assertThat(a).isEqualTo(pair[0].getFD());
            assertThat(b).isEqualTo(pair[1].getFD());
            assertThat(a).isNotEqualTo(b);
            assertThat(Descriptors.isOpen(a)).isTrue();
            assertThat(Descriptors.isOpen(b)).isTrue();

            // It is really that socket: bytes sent on the descriptor arrive at the other channel.
            assertThat(Sockets.send(a, ByteBuffer.wrap("via fd".getBytes(StandardCharsets.US_ASCII)), 0))
                    .isEqualTo(6);
            ByteBuffer in = ByteBuffer.allocate(6);
            while (in.hasRemaining()) {
                assertThat(pair[1].read(in)).isPositive(); // a blocking channel: returns once data is there
            }
            assertThat(new String(in.array(), StandardCharsets.US_ASCII)).isEqualTo("via fd");
        } finally {
            pair[0].close();
            pair[1].close();
        }
    }

    @Test
    void closedChannelsAreRejected() throws IOException {
        UnixSocketChannel[] pair = UnixSocketChannel.pair();
        pair[0].close();
        pair[1].close();
        assertThatThrownBy(() -> ChannelDescriptors.of(pair[0]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("closed");

        Pipe pipe = Pipe.open();
        pipe.sink().close();
        pipe.source().close();
        assertThatThrownBy(() -> ChannelDescriptors.of(pipe.source()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void channelsWithoutAReadableDescriptorAreRejected() throws IOException {
        Channel custom = new Channel() {
            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        assertThatThrownBy(() -> ChannelDescriptors.of(custom))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot find the descriptor");

        Path file = Files.write(tmp.resolve("f"), new byte[] {1});
        try (FileChannel fc = FileChannel.open(file)) {
            assertThatThrownBy(() -> ChannelDescriptors.of(fc))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("JDK SelectableChannel");
        }
    }

    @Test
    void jdkPipeSourceGivesItsDescriptorOrNamesTheOption() throws IOException {
        Pipe pipe = Pipe.open();
        try {
            Throwable t = catchThrowable(() -> ChannelDescriptors.of(pipe.source()));
            if (t == null) {
                int fd = ChannelDescriptors.of(pipe.source());
                assertThat(Descriptors.isOpen(fd)).isTrue();
                assertThat(link(fd)).startsWith("pipe:");
                // The same pipe: what the sink writes is read from the descriptor.
                pipe.sink().write(ByteBuffer.wrap(new byte[] {5, 6}));
                byte[] got = new byte[2];
                assertThat(Descriptors.read(fd, got, 0, 2)).isEqualTo(2);
                assertThat(got).containsExactly(5, 6);
            } else {
                assertThat(t).isInstanceOf(UnsupportedOperationException.class)
                        .hasMessageContaining(NIO_OPTION);
            }
        } finally {
            pipe.sink().close();
            pipe.source().close();
        }
    }

    @Test
    void fileInputStreamGivesItsDescriptorOrNamesTheOption() throws IOException {
        Path file = Files.write(tmp.resolve("data"), new byte[] {1, 2, 3});
        try (FileInputStream in = new FileInputStream(file.toFile())) {
            Throwable t = catchThrowable(() -> ChannelDescriptors.of(in.getFD()));
            if (t == null) {
                int fd = ChannelDescriptors.of(in.getFD());
                assertThat(Descriptors.isOpen(fd)).isTrue();
                assertThat(link(fd)).isEqualTo(file.toRealPath().toString());
            } else {
                assertThat(t).isInstanceOf(UnsupportedOperationException.class)
                        .hasMessageContaining(IO_OPTION);
            }
        }
    }

    @Test
    void invalidFileDescriptorIsRejected() throws IOException {
        assertThatThrownBy(() -> ChannelDescriptors.of(new FileDescriptor()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not valid");
        Path file = Files.write(tmp.resolve("closed"), new byte[] {1});
        FileInputStream in = new FileInputStream(file.toFile());
        FileDescriptor fd = in.getFD();
        in.close();
        assertThatThrownBy(() -> ChannelDescriptors.of(fd)).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * The success branch, for sure: a child JVM of the same JDK with both {@code --add-opens} options reads
     * the descriptors of a JDK pipe and of a FileInputStream ({@link Child}).
     */
    @Test
    void withAddOpensTheJdkDescriptorsAreRead() throws Exception {
        Path file = Files.write(tmp.resolve("child-data"), new byte[] {9});
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.addAll(List.of(NIO_OPTION.split(" ")));
        command.addAll(List.of(IO_OPTION.split(" ")));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Child.class.getName());
        command.add(file.toRealPath().toString());

        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        String output;
        try (InputStream out = p.getInputStream()) {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                fail("the child JVM did not finish within 60 s: " + new String(out.readNBytes(out.available())));
            }
            output = new String(out.readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            p.getOutputStream().close();
        }
        assertThat(p.exitValue()).as("child output:%n%s", output).isZero();
        assertThat(output).contains("CHILD-OK");
    }

    /** Run in a child JVM by {@link #withAddOpensTheJdkDescriptorsAreRead()}; exits 1 on any failure. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            try {
                Pipe pipe = Pipe.open();
                int fd = ChannelDescriptors.of(pipe.source());
                check(Descriptors.isOpen(fd), "pipe descriptor " + fd + " open");
                check(link(fd).startsWith("pipe:"), "descriptor " + fd + " is a pipe: " + link(fd));
                pipe.sink().write(ByteBuffer.wrap(new byte[] {7}));
                byte[] b = new byte[1];
                check(Descriptors.read(fd, b, 0, 1) == 1 && b[0] == 7, "read the sink's byte from the descriptor");
                pipe.sink().close();
                pipe.source().close();

                try (FileInputStream in = new FileInputStream(args[0])) {
                    int ffd = ChannelDescriptors.of(in.getFD());
                    check(link(ffd).equals(args[0]), "descriptor " + ffd + " is the file: " + link(ffd));
                }
                System.out.println("CHILD-OK");
                System.exit(0);
            } catch (Throwable t) {
                t.printStackTrace(System.out);
                System.exit(1);
            }
        }

        private static void check(boolean ok, String what) {
            if (!ok) {
                throw new AssertionError("failed: " + what);
            }
        }
    }

    /** What /proc/self/fd/N points to: a path, or e.g. {@code pipe:[1234]}. */
    static String link(int fd) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }
}
