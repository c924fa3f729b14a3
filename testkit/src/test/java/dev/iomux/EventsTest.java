package dev.iomux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;

import dev.iomux.internal.Linux;
import dev.iomux.spi.PollBits;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link Events} bit values and names, {@link Capabilities}, and the poll/epoll translation {@link PollBits}. */
@ExtendWith(LeakCheck.class)
class EventsTest {

    @Test
    void bitsAreDistinctAndGrouped() {
        int[] all = {Events.READ, Events.WRITE, Events.PRIORITY, Events.ERROR, Events.HANGUP, Events.READ_HANGUP,
            Events.EDGE, Events.ONESHOT, Events.EXCLUSIVE};
        int seen = 0;
        for (int bit : all) {
            assertThat(Integer.bitCount(bit)).as("one bit: %s", Events.toString(bit)).isEqualTo(1);
            assertThat(seen & bit).as("distinct: %s", Events.toString(bit)).isZero();
            seen |= bit;
        }
        assertThat(Events.INTERESTS | Events.FLAGS | Events.MODES).isEqualTo(seen);
        assertThat(Events.INTERESTS & Events.FLAGS).isZero();
        assertThat(Events.INTERESTS & Events.MODES).isZero();
        assertThat(Events.FLAGS & Events.MODES).isZero();
    }

    @Test
    void anyTestsForCommonBits() {
        assertThat(Events.any(Events.READ | Events.WRITE, Events.WRITE)).isTrue();
        assertThat(Events.any(Events.READ, Events.WRITE | Events.PRIORITY)).isFalse();
        assertThat(Events.any(0, Events.INTERESTS)).isFalse();
    }

    @Test
    void toStringOfEmptyMask() {
        assertThat(Events.toString(0)).isEqualTo("0");
    }

    @Test
    void toStringOfSingleBits() {
        assertThat(Events.toString(Events.READ)).isEqualTo("READ");
        assertThat(Events.toString(Events.WRITE)).isEqualTo("WRITE");
        assertThat(Events.toString(Events.PRIORITY)).isEqualTo("PRIORITY");
        assertThat(Events.toString(Events.ERROR)).isEqualTo("ERROR");
        assertThat(Events.toString(Events.HANGUP)).isEqualTo("HANGUP");
        assertThat(Events.toString(Events.READ_HANGUP)).isEqualTo("READ_HANGUP");
        assertThat(Events.toString(Events.EDGE)).isEqualTo("EDGE");
        assertThat(Events.toString(Events.ONESHOT)).isEqualTo("ONESHOT");
        assertThat(Events.toString(Events.EXCLUSIVE)).isEqualTo("EXCLUSIVE");
    }

    @Test
    void toStringOfCombinationsIsInBitOrder() {
        assertThat(Events.toString(Events.ONESHOT | Events.WRITE | Events.READ)).isEqualTo("READ|WRITE|ONESHOT");
        assertThat(Events.toString(Events.INTERESTS)).isEqualTo("READ|WRITE|PRIORITY");
        assertThat(Events.toString(Events.FLAGS)).isEqualTo("ERROR|HANGUP|READ_HANGUP");
        assertThat(Events.toString(Events.MODES)).isEqualTo("EDGE|ONESHOT|EXCLUSIVE");
    }

    @Test
    void toStringShowsUnknownBitsInHex() {
        assertThat(Events.toString(1 << 6)).isEqualTo("0x40");
        assertThat(Events.toString((1 << 6) | (1 << 7))).isEqualTo("0xc0");
        assertThat(Events.toString(Events.READ | (1 << 20))).isEqualTo("READ|0x100000");
        assertThat(Events.toString(Events.EXCLUSIVE | (1 << 11))).isEqualTo("EXCLUSIVE|0x800");
        assertThat(Events.toString(Integer.MIN_VALUE)).isEqualTo("0x80000000");
        assertThat(Events.toString(-1)).isEqualTo(
                "READ|WRITE|PRIORITY|ERROR|HANGUP|READ_HANGUP|EDGE|ONESHOT|EXCLUSIVE|0xfffff8c0");
    }

    @Nested
    class CapabilitiesTest {
        @Test
        void ofAndSupports() {
            Capabilities c = Capabilities.of(EnumSet.of(Capability.EDGE, Capability.ONESHOT), 1023);
            assertThat(c.supports(Capability.EDGE)).isTrue();
            assertThat(c.supports(Capability.ONESHOT)).isTrue();
            assertThat(c.supports(Capability.EXCLUSIVE)).isFalse();
            assertThat(c.supports(Capability.PRIORITY)).isFalse();
            assertThat(c.maxFd()).isEqualTo(1023);
            assertThat(c.supported()).containsExactlyInAnyOrder(Capability.EDGE, Capability.ONESHOT);
        }

        @Test
        void supportedIsACopyAndReadOnly() {
            Set<Capability> mine = new HashSet<>(Set.of(Capability.PRIORITY));
            Capabilities c = Capabilities.of(mine, Capabilities.UNLIMITED);
            mine.add(Capability.EDGE);
            assertThat(c.supports(Capability.EDGE)).isFalse();
            assertThat(c.supported()).containsExactly(Capability.PRIORITY);
            assertThatThrownBy(() -> c.supported().add(Capability.EDGE))
                    .isInstanceOf(UnsupportedOperationException.class);
        }

        @Test
        void emptySetIsAllowed() {
            Capabilities c = Capabilities.of(Set.of(), 0);
            assertThat(c.supported()).isEmpty();
            for (Capability cap : Capability.values()) {
                assertThat(c.supports(cap)).isFalse();
            }
            assertThat(c.maxFd()).isZero();
        }

        @Test
        void equalsAndHashCodeByContent() {
            Capabilities a = Capabilities.of(EnumSet.of(Capability.EDGE, Capability.READ_HANGUP), 1023);
            Capabilities b = Capabilities.of(Set.of(Capability.READ_HANGUP, Capability.EDGE), 1023);
            assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
            assertThat(a).isNotEqualTo(Capabilities.of(EnumSet.of(Capability.EDGE, Capability.READ_HANGUP), 1024));
            assertThat(a).isNotEqualTo(Capabilities.of(EnumSet.of(Capability.EDGE), 1023));
            assertThat(a).isNotEqualTo(null);
            assertThat(a).isNotEqualTo("[EDGE, READ_HANGUP], maxFd=1023");
        }

        @Test
        void toStringListsCapabilitiesAndMaxFd() {
            assertThat(Capabilities.of(EnumSet.of(Capability.ONESHOT, Capability.EDGE), 1023))
                    .hasToString("[EDGE, ONESHOT], maxFd=1023");
            assertThat(Capabilities.of(Set.of(), Capabilities.UNLIMITED)).hasToString("[], maxFd=unlimited");
        }

        @Test
        void negativeMaxFdAndNullSetAreRejected() {
            assertThatThrownBy(() -> Capabilities.of(Set.of(), -1))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("maxFd")
                    .hasMessageContaining("-1");
            assertThatThrownBy(() -> Capabilities.of(null, 10))
                    .isInstanceOf(NullPointerException.class)
                    .hasMessageContaining("supported");
        }

        @Test
        void everyCapabilityHasADescription() {
            for (Capability cap : Capability.values()) {
                assertThat(cap.description()).isNotBlank();
            }
            assertThat(Capability.EDGE.description()).contains("Events.EDGE");
        }
    }

    /** PollBits: iomux bits to and from the poll(2)/epoll(7) bits. */
    @Nested
    class PollBitsTest {
        @Test
        void requestTranslatesInterests() {
            assertThat(PollBits.request(0, true)).isZero();
            assertThat(PollBits.request(Events.READ, false)).isEqualTo(Linux.POLLIN);
            assertThat(PollBits.request(Events.READ, true)).isEqualTo(Linux.POLLIN | Linux.POLLRDHUP);
            assertThat(PollBits.request(Events.WRITE, true)).isEqualTo(Linux.POLLOUT);
            assertThat(PollBits.request(Events.PRIORITY, false)).isEqualTo(Linux.POLLPRI);
            assertThat(PollBits.request(Events.INTERESTS, true))
                    .isEqualTo(Linux.POLLIN | Linux.POLLRDHUP | Linux.POLLOUT | Linux.POLLPRI);
            // Flags and modes are not requests: poll reports ERR/HUP unasked (poll(2)), modes are epoll's.
            assertThat(PollBits.request(Events.FLAGS | Events.MODES, true)).isZero();
        }

        @Test
        void toEventsTranslatesDirections() {
            assertThat(PollBits.toEvents(0)).isZero();
            assertThat(PollBits.toEvents(Linux.POLLIN)).isEqualTo(Events.READ);
            assertThat(PollBits.toEvents(Linux.POLLOUT)).isEqualTo(Events.WRITE);
            assertThat(PollBits.toEvents(Linux.POLLPRI)).isEqualTo(Events.PRIORITY);
            assertThat(PollBits.toEvents(Linux.POLLIN | Linux.POLLOUT)).isEqualTo(Events.READ | Events.WRITE);
        }

        @Test
        void toEventsMakesErrorsAndHangupsReadyBothWays() {
            assertThat(PollBits.toEvents(Linux.POLLRDHUP)).isEqualTo(Events.READ | Events.READ_HANGUP);
            assertThat(PollBits.toEvents(Linux.POLLHUP)).isEqualTo(Events.READ | Events.WRITE | Events.HANGUP);
            assertThat(PollBits.toEvents(Linux.POLLERR)).isEqualTo(Events.READ | Events.WRITE | Events.ERROR);
            // POLLNVAL: the descriptor was closed while registered (rule CLOSED-FD).
            assertThat(PollBits.toEvents(Linux.POLLNVAL)).isEqualTo(Events.READ | Events.WRITE | Events.ERROR);
            // What a reset TCP socket reports (rule READ-ERROR; tcp_poll in net/ipv4/tcp.c).
            assertThat(PollBits.toEvents(
                    Linux.POLLIN | Linux.POLLOUT | Linux.POLLERR | Linux.POLLHUP | Linux.POLLRDHUP))
                    .isEqualTo(Events.READ | Events.WRITE | Events.ERROR | Events.HANGUP | Events.READ_HANGUP);
        }

        /** Every combination of the seven bits a kernel reports is the union of what each bit means alone. */
        @Test
        void toEventsIsTheUnionOfItsBitsForEveryCombination() {
            int[] bits = {Linux.POLLIN, Linux.POLLPRI, Linux.POLLOUT, Linux.POLLERR, Linux.POLLHUP, Linux.POLLNVAL,
                Linux.POLLRDHUP};
            for (int combo = 0; combo < 1 << bits.length; combo++) {
                int revents = 0;
                int expected = 0;
                for (int b = 0; b < bits.length; b++) {
                    if ((combo & 1 << b) != 0) {
                        revents |= bits[b];
                        expected |= PollBits.toEvents(bits[b]);
                    }
                }
                assertThat(PollBits.toEvents(revents)).as("revents 0x%x", revents).isEqualTo(expected);
                // Bits outside the seven (POLLRDNORM and the like) change nothing.
                assertThat(PollBits.toEvents(revents | 0x40 | 0x100)).isEqualTo(expected);
            }
        }
    }
}
