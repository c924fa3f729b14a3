package dev.iomux.uring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.iomux.NativeIOException;
import dev.iomux.io.Sockets;
import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.spi.PollBits;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The kernel facts the backend's design rests on, each shown on a real ring and real descriptors, below
 * the selector: what IORING_OP_POLL_ADD reports, and what it holds.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RingFactsTest {
    private static final int POLL_ADD_LEVEL = 1 << 3; // IORING_POLL_ADD_LEVEL (include/uapi/linux/io_uring.h)

    /** A completion as read from the ring. */
    record Cqe(long userData, int res, int flags) {
        boolean more() {
            return (flags & Ring.CQE_F_MORE) != 0;
        }
    }

    private static List<Cqe> reap(Ring ring) {
        List<Cqe> out = new ArrayList<>();
        int n = ring.ready();
        for (int i = 0; i < n; i++) {
            out.add(new Cqe(ring.userData(i), ring.res(i), ring.cqeFlags(i)));
        }
        ring.consume(n);
        return out;
    }

    /** user_data of the timeouts that bound {@link #submitAndWait}'s waits. */
    private static final long WAIT_TIMEOUT = -1;

    /**
     * Submits what is queued and waits up to {@code millis} for completions (an IORING_OP_TIMEOUT with a
     * count of 1, as the selector bounds its waits), then reaps them, without the timeout's own CQE.
     */
    private static List<Cqe> submitAndWait(Ring ring, long millis) {
        ring.timeout(ring.nextSqe(), TimeUnit.MILLISECONDS.toNanos(millis), WAIT_TIMEOUT);
        ring.publish();
        long rc = ring.enter(true);
        assertThat(rc).as("io_uring_enter: the count submitted").isNotNegative();
        List<Cqe> cqes = reap(ring);
        cqes.removeIf(c -> c.userData() == WAIT_TIMEOUT);
        return cqes;
    }

    private static void pollAdd(Ring ring, int fd, int events, boolean multishot, long userData) {
        ring.pollAdd(ring.nextSqe(), fd, events, multishot, userData);
    }

    @Test
    @DisplayName("POLL_ADD is edge-triggered in the kernel: IORING_POLL_ADD_LEVEL is EINVAL, and a multishot "
            + "poll reports a wake-up once, not a state that holds")
    void pollAddIsEdgeTriggered() throws IOException {
        Ring ring = new Ring(8, 16, 0);
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            int at = ring.nextSqe();
            ring.pollAdd(at, p[0], PollBits.POLLIN, false, 1);
            ring.sqes().putInt(at + 24, POLL_ADD_LEVEL);
            List<Cqe> level = submitAndWait(ring, 1000);
            assertThat(level).as("the level-triggered flag").containsExactly(new Cqe(1, -Ring.EINVAL, 0));

            Fds.write(p[1], 1);
            pollAdd(ring, p[0], PollBits.POLLIN, true, 2);
            List<Cqe> first = submitAndWait(ring, 1000);
            assertThat(first).as("armed on a readable pipe: reported at once").hasSize(1);
            assertThat(first.get(0).res() & PollBits.POLLIN).isNotZero();
            assertThat(first.get(0).more()).as("multishot goes on").isTrue();
            List<Cqe> again = submitAndWait(ring, 200);
            assertThat(again).as("still readable (the byte is unread), yet nothing more: edge-triggered").isEmpty();
            Fds.write(p[1], 1);
            List<Cqe> next = submitAndWait(ring, 1000);
            assertThat(next).as("a new write is a new wake-up").hasSize(1);
            assertThat(next.get(0).userData()).isEqualTo(2);
        } finally {
            ring.close();
        }
    }

    @Test
    @DisplayName("A multishot poll's completions outlive the data: wake-ups posted before a drain still say "
            + "POLLIN after it (the result is the wake-up's mask, not the file's state)")
    void multishotCompletionsOutliveTheData() throws IOException {
        Ring ring = new Ring(8, 16, 0);
        NativeBuffer pollfd = NativeBuffer.allocate(8);
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            pollAdd(ring, p[0], PollBits.POLLIN, true, 5);
            assertThat(submitAndWait(ring, 100)).as("an empty pipe: armed, nothing").isEmpty();
            for (int i = 0; i < 3; i++) {
                Fds.write(p[1], 1); // a wake-up each
            }
            Fds.sleep(20);
            Fds.drain(p[0]);
            assertThat(peer(pollfd, p[0], 0) & PollBits.POLLIN).as("poll(2): the pipe is empty now").isZero();
            List<Cqe> stale = submitAndWait(ring, 200);
            assertThat(stale).as("completions of the wake-ups, read after the drain").isNotEmpty()
                    .allSatisfy(c -> assertThat(c.res() & PollBits.POLLIN).isNotZero());
        } finally {
            pollfd.free();
            ring.close();
        }
    }

    @Test
    @DisplayName("A descriptor closed while a poll is armed stays open in the kernel: the peer sees nothing "
            + "until POLL_REMOVE")
    void aClosedDescriptorStaysOpenUntilItsPollIsRemoved() throws IOException {
        Ring ring = new Ring(8, 16, 0);
        NativeBuffer pollfd = NativeBuffer.allocate(8);
        try (Fds fds = new Fds()) {
            int[] s = fds.socketPair();
            pollAdd(ring, s[0], PollBits.POLLIN, false, 7);
            assertThat(submitAndWait(ring, 100)).as("nothing to read: the poll stays armed").isEmpty();
            fds.close(s[0]);
            assertThat(peer(pollfd, s[1], 300)).as("the peer after close(2) of its other end: no hang-up, the "
                    + "armed poll holds the file").isZero();
            ring.pollRemove(ring.nextSqe(), 7, 8);
            List<Cqe> removed = submitAndWait(ring, 1000);
            assertThat(removed).as("the poll ends cancelled (the remove's own success posts nothing: "
                    + "IOSQE_CQE_SKIP_SUCCESS)").contains(new Cqe(7, -Ring.ECANCELED, 0));
            int revents = peer(pollfd, s[1], 2000);
            assertThat(revents & (PollBits.POLLHUP | PollBits.POLLIN)).as("after POLL_REMOVE the file is released and "
                    + "the peer sees the hang-up (revents 0x%x)", revents).isNotZero();
        } finally {
            pollfd.free();
            ring.close();
        }
    }

    @Test
    @DisplayName("Hang-ups arrive when only POLLIN was asked: POLLRDHUP on a peer's shutdown, POLLHUP on a "
            + "full one")
    void hangUpsArriveWhenOnlyPollinWasAsked() throws IOException {
        Ring ring = new Ring(8, 16, 0);
        try (Fds fds = new Fds()) {
            int[] s = fds.socketPair();
            pollAdd(ring, s[0], PollBits.POLLIN, false, 1);
            pollAdd(ring, s[0], PollBits.POLLPRI, false, 2); // asks for neither POLLIN nor a hang-up
            assertThat(submitAndWait(ring, 100)).as("nothing yet").isEmpty();
            Sockets.shutdown(s[1]);
            List<Cqe> got = submitAndWait(ring, 2000);
            Fds.sleep(50);
            got.addAll(reap(ring));
            assertThat(got).as("both polls completed by the peer's shutdown").hasSize(2);
            for (Cqe c : got) {
                // Seen on Linux 6.18: 0x2011 for POLLIN, 0x2010 for POLLPRI (POLLRDHUP | POLLHUP [| POLLIN]).
                assertThat(c.res() & PollBits.POLLHUP).as("POLLHUP in poll %d's result 0x%x", c.userData(), c.res())
                        .isNotZero();
                assertThat(c.res() & PollBits.POLLRDHUP).as("POLLRDHUP in poll %d's result 0x%x, never asked for",
                        c.userData(), c.res()).isNotZero();
            }
        } finally {
            ring.close();
        }
    }

    @Test
    @DisplayName("A multishot poll ends on CQ overflow (no IORING_CQE_F_MORE) and on cancellation "
            + "(-ECANCELED), and must be armed again")
    void aMultishotPollEndsOnOverflowAndOnCancellation() throws IOException {
        Ring ring = new Ring(2, 4, 0);
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            pollAdd(ring, p[0], PollBits.POLLIN, true, 3);
            assertThat(submitAndWait(ring, 50)).isEmpty();
            for (int i = 0; i < 3 * ring.cqEntries; i++) {
                Fds.write(p[1], 1); // a wake-up each; the completion is posted before the write returns to us
            }
            ring.submit(); // flushes the overflowed completions (FEAT_NODROP keeps them)
            List<Cqe> got = reap(ring);
            ring.submit();
            got.addAll(reap(ring));
            assertThat(got.size()).as("completions: no more than the CQ holds and the one that ends the poll "
                    + "(%s)", got).isBetween(2, ring.cqEntries + 1);
            assertThat(got.get(got.size() - 1).more()).as("the last one says the poll ended").isFalse();
            Fds.write(p[1], 1);
            assertThat(submitAndWait(ring, 200)).as("ended: a new wake-up reports nothing").isEmpty();

            pollAdd(ring, p[0], PollBits.POLLIN, true, 4);
            List<Cqe> rearmed = submitAndWait(ring, 1000);
            assertThat(rearmed).as("armed again: reported (it was readable when armed)").hasSize(1);
            assertThat(rearmed.get(0).more()).isTrue();
            Fds.drain(p[0]);
            ring.pollRemove(ring.nextSqe(), 4, 5);
            List<Cqe> cancelled = submitAndWait(ring, 1000);
            assertThat(cancelled).as("cancelled: the poll's last completion").contains(new Cqe(4, -Ring.ECANCELED, 0));
        } finally {
            ring.close();
        }
    }

    @Test
    @DisplayName("A one-shot poll reports the wake-up, not the state: a TCP listener's shutdown completes it with "
            + "POLLERR where poll(2) sees POLLHUP")
    void aPollReportsTheWakeUpNotTheState() throws IOException {
        Ring ring = new Ring(8, 16, 0);
        NativeBuffer pollfd = NativeBuffer.allocate(8);
        try (Fds fds = new Fds()) {
            int listener = fds.listener(StandardProtocolFamily.INET, 5);
            pollAdd(ring, listener, PollBits.POLLIN | PollBits.POLLRDHUP, false, 1);
            assertThat(submitAndWait(ring, 100)).as("no connection queued").isEmpty();
            Sockets.shutdown(listener);
            List<Cqe> got = submitAndWait(ring, 2000);
            assertThat(got).as("the shutdown's wake-up").hasSize(1);
            assertThat(got.get(0).res()).as("its result: POLLERR alone").isEqualTo(PollBits.POLLERR);
            pollfd.putInt(0, listener);
            pollfd.putShort(4, (short) (PollBits.POLLIN | PollBits.POLLRDHUP));
            assertThat(Kernel.poll(pollfd.address(), 1, 0)).isEqualTo(1);
            assertThat(pollfd.getShort(6) & (PollBits.POLLERR | PollBits.POLLHUP)).as("poll(2): the state")
                    .isEqualTo(PollBits.POLLHUP);
            pollAdd(ring, listener, PollBits.POLLIN | PollBits.POLLRDHUP, false, 2);
            assertThat(submitAndWait(ring, 2000)).as("armed again, the state: POLLHUP")
                    .containsExactly(new Cqe(2, PollBits.POLLHUP, 0));
        } finally {
            pollfd.free();
            ring.close();
        }
    }

    @Test
    @DisplayName("A POLLPRI poll is not woken by TCP urgent data; armed again, it completes at once with POLLPRI")
    void aPriorityPollIsNotWokenByUrgentData() throws IOException {
        Ring ring = new Ring(8, 16, 0);
        try (Fds fds = new Fds()) {
            int[] c = fds.connectedPair(StandardProtocolFamily.INET);
            pollAdd(ring, c[1], PollBits.POLLPRI, false, 1);
            assertThat(submitAndWait(ring, 100)).as("no urgent data").isEmpty();
            Sockets.send(c[0], ByteBuffer.wrap(new byte[] {1, 2}), 0);
            Sockets.send(c[0], ByteBuffer.wrap(new byte[] {'u'}), Sockets.MSG_OOB);
            assertThat(submitAndWait(ring, 300)).as("2 bytes and 1 urgent sent: the poll was not woken").isEmpty();
            pollAdd(ring, c[1], PollBits.POLLPRI, false, 2);
            List<Cqe> got = submitAndWait(ring, 2000);
            assertThat(got).as("a new poll sees the state: POLLPRI").contains(new Cqe(2, PollBits.POLLPRI, 0));
        } finally {
            ring.close();
        }
    }

    /** What poll(2) reports of {@code fd} for reading within {@code millis}. */
    static int peer(NativeBuffer pollfd, int fd, long millis) throws IOException {
        pollfd.putInt(0, fd);
        pollfd.putShort(4, (short) (PollBits.POLLIN | PollBits.POLLRDHUP));
        pollfd.putShort(6, (short) 0);
        int n = Kernel.poll(pollfd.address(), 1, TimeUnit.MILLISECONDS.toNanos(millis));
        return n > 0 ? pollfd.getShort(6) & 0xffff : 0;
    }

    @Test
    @DisplayName("IORING_OP_TIMEOUT with a count of 1 completes with 0 at the next other completion, with "
            + "-ETIME when the time is up, and a timeout's own CQE does not count for another")
    void timeoutWithACountEndsWithTheWait() throws IOException {
        Ring ring = new Ring(8, 16, 0);
        try (Fds fds = new Fds()) {
            int[] p = fds.pipe();
            ring.timeout(ring.nextSqe(), TimeUnit.SECONDS.toNanos(30), 1);
            pollAdd(ring, p[0], PollBits.POLLIN, false, 2);
            ring.publish();
            assertThat(ring.enter(false)).isEqualTo(2);
            Fds.write(p[1], 1);
            assertThat(ring.enter(true)).isZero();
            List<Cqe> got = reap(ring);
            if (got.size() < 2) {
                ring.enter(true);
                got.addAll(reap(ring));
            }
            assertThat(got).as("the poll's completion ends the 30 s timeout at once")
                    .containsExactlyInAnyOrder(new Cqe(2, PollBits.POLLIN, 0), new Cqe(1, 0, 0));

            ring.timeout(ring.nextSqe(), TimeUnit.SECONDS.toNanos(30), 3);
            ring.publish();
            assertThat(ring.enter(false)).isEqualTo(1); // the timespec is read at submission: one at a time
            ring.timeout(ring.nextSqe(), TimeUnit.MILLISECONDS.toNanos(20), 4);
            ring.publish();
            long t0 = System.nanoTime();
            assertThat(ring.enter(true)).isEqualTo(1);
            got = reap(ring);
            assertThat(got).as("the 20 ms timeout's -ETIME, not the 30 s one's completion")
                    .containsExactly(new Cqe(4, -Ring.ETIME, 0));
            assertThat(System.nanoTime() - t0).as("nanoseconds waited").isGreaterThanOrEqualTo(20_000_000L);
        } finally {
            ring.close();
        }
    }

    /** Runs {@code task} on a new platform thread and returns what it returned. */
    private static long onAnotherThread(java.util.function.LongSupplier task) throws InterruptedException {
        long[] out = new long[1];
        Thread t = new Thread(() -> out[0] = task.getAsLong(), "another thread");
        t.start();
        t.join(10_000);
        assertThat(t.isAlive()).as("the other thread's call returned").isFalse();
        return out[0];
    }

    @Test
    @DisplayName("SINGLE_ISSUER with R_DISABLED: the thread that enables the ring is its submitter, an enter "
            + "from another is EEXIST (so is its io_uring_register), and any thread may close it")
    void theEnablingThreadIsTheSubmitter() throws Exception {
        int flags = SelectorFlags.single(); // SINGLE_ISSUER | DEFER_TASKRUN | R_DISABLED, and choose()'s
        assertThat(flags & Ring.SETUP_R_DISABLED).isNotZero();
        Ring ring = new Ring(8, 16, flags);
        boolean closed = false;
        try (Fds fds = new Fds()) {
            assertThat(ring.enter(false)).as("io_uring_enter on a disabled ring").isEqualTo(-Ring.EBADFD);
            onAnotherThread(() -> {
                try {
                    ring.enable();
                    return 0;
                } catch (NativeIOException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(ring.enter(false)).as("io_uring_enter (GETEVENTS) from a thread that did not enable the "
                    + "ring").isEqualTo(-Ring.EEXIST);
            int[] p = fds.pipe();
            pollAdd(ring, p[0], PollBits.POLLIN, false, 1);
            ring.publish();
            assertThat(ring.enter(false)).as("a submission from it").isEqualTo(-Ring.EEXIST);
            assertThatThrownBy(ring::enable).as("io_uring_register from it, even to enable again")
                    .isInstanceOf(NativeIOException.class).hasMessageContaining("EEXIST");
            // This thread closes the ring that another thread submits to; LeakCheck sees it gone.
            closed = true;
            ring.close();
        } finally {
            if (!closed) {
                ring.close();
            }
        }
    }

    @Test
    @DisplayName("DEFER_TASKRUN: a poll's completion is posted only when the submitter enters with "
            + "GETEVENTS, a zero wait included")
    void deferredCompletionsArePostedAtTheSubmittersEnter() throws Exception {
        Ring ring = new Ring(8, 16, SelectorFlags.single());
        try (Fds fds = new Fds()) {
            ring.enable();
            int[] p = fds.pipe();
            pollAdd(ring, p[0], PollBits.POLLIN, true, 1);
            ring.publish();
            assertThat(ring.enter(false)).as("submitted").isEqualTo(1);
            Fds.write(p[1], 1);
            Thread.sleep(50);
            assertThat(ring.ready()).as("CQEs posted after the write, before any enter").isZero();
            assertThat(ring.enter(false)).as("an enter with GETEVENTS and min_complete 0").isZero();
            assertThat(reap(ring)).as("the poll's completion, posted by that enter")
                    .containsExactly(new Cqe(1, PollBits.POLLIN, Ring.CQE_F_MORE));

            // A blocked wait (min_complete 1) is woken by a wake-up of the multishot poll from another thread.
            long[] waited = new long[1];
            Thread writer = new Thread(() -> {
                Fds.sleep(100);
                try {
                    Fds.write(p[1], 1);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, "writer");
            writer.start();
            long t0 = System.nanoTime();
            submitAndWait(ring, 5000).forEach(c -> waited[0] = c.userData());
            writer.join(10_000);
            assertThat(waited[0]).as("the poll's completion ended the wait").isEqualTo(1);
            assertThat(System.nanoTime() - t0).as("nanoseconds waited, well under the 5 s bound")
                    .isLessThan(TimeUnit.SECONDS.toNanos(3));
        } finally {
            ring.close();
        }
    }
}
