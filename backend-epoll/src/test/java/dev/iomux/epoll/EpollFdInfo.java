package dev.iomux.epoll;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.iomux.spi.PollBits;

/**
 * The kernel's own view of an epoll instance: its registrations as {@code /proc/self/fdinfo/<epfd>} lists
 * them (proc(5), fs/eventpoll.c ep_show_fdinfo), one line each,
 * {@code tfd: <fd> events: <hex mask> data: <hex data> ...}. What the backend did to the kernel is read
 * here, not counted by the backend.
 *
 * <p>The mask is what epoll_ctl was last given, plus EPOLLERR and EPOLLHUP, which epoll_ctl always adds;
 * after an EPOLLONESHOT registration fired, the kernel keeps only its private bits (EPOLLONESHOT,
 * EPOLLET, EPOLLEXCLUSIVE, EPOLLWAKEUP) until the next EPOLL_CTL_MOD. The data is the backend's token,
 * {@code id << 32 | fd}.
 */
final class EpollFdInfo {
    /** What epoll_ctl adds to every mask (epoll_ctl(2): "always waited for"). */
    static final int ALWAYS = PollBits.POLLERR | PollBits.POLLHUP;

    private EpollFdInfo() {
    }

    /** One registration as the kernel holds it. */
    record Entry(int tfd, int events, long data) {
        /** @return the registration id in the token */
        int id() {
            return (int) (data >>> 32);
        }

        /** @return the fd in the token */
        int dataFd() {
            return (int) data;
        }

        @Override
        public String toString() {
            return "tfd " + tfd + " events " + Integer.toHexString(events) + " data " + Long.toHexString(data);
        }
    }

    /** @return the mask the kernel holds for an armed registration of the iomux {@code events} */
    static int armedMask(int events) {
        return EpollSelector.kernelEvents(events) | ALWAYS;
    }

    /** @return the registrations of the selector's current epoll instance, the wake-up pipe's included */
    static List<Entry> entries(EpollSelector sel) throws IOException {
        return entries(sel.epfd);
    }

    /** @return the registrations of the epoll instance {@code epfd} */
    static List<Entry> entries(int epfd) throws IOException {
        List<Entry> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + epfd))) {
            if (!line.startsWith("tfd:")) {
                continue;
            }
            String[] f = line.trim().split("\\s+"); // tfd: N events: HEX data: HEX pos:... ino:... sdev:...
            assertThat(f[2]).as("fdinfo line %s", line).isEqualTo("events:");
            assertThat(f[4]).as("fdinfo line %s", line).isEqualTo("data:");
            out.add(new Entry(Integer.parseInt(f[1]), Integer.parseUnsignedInt(f[3], 16),
                    Long.parseUnsignedLong(f[5], 16)));
        }
        return out;
    }

    /** @return the one registration of {@code fd} in the selector's epoll instance, or null if none */
    static Entry entry(EpollSelector sel, int fd) throws IOException {
        List<Entry> found = entries(sel).stream().filter(e -> e.tfd() == fd).toList();
        assertThat(found).as("registrations of fd %d in epoll fd %d", fd, sel.epfd).hasSizeLessThanOrEqualTo(1);
        return found.isEmpty() ? null : found.get(0);
    }

    /** @return the descriptor numbers the epoll instance {@code epfd} watches */
    static List<Integer> targets(int epfd) throws IOException {
        return entries(epfd).stream().map(Entry::tfd).toList();
    }
}
