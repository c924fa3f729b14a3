package dev.iomux.select;

import static dev.iomux.Events.EDGE;
import static dev.iomux.Events.EXCLUSIVE;
import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;

import dev.iomux.Capability;
import dev.iomux.SelectorKey;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * API-CAPABILITIES for select: exactly ONESHOT (emulated) and PRIORITY (exceptfds); no EDGE, no
 * EXCLUSIVE (EPOLL-ET, EPOLL-EXCLUSIVE: "refuse"), no distinct ERROR/HANGUP or READ_HANGUP flags.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SelectCapabilitiesTest {

    @Test
    void declaresExactlyOneShotAndPriority() throws IOException {
        SelectSelectorProvider provider = new SelectSelectorProvider();
        assertThat(provider.name()).isEqualTo("select");
        assertThat(provider.unavailabilityCause()).isNull();
        assertThat(provider.capabilities().supported())
                .isEqualTo(EnumSet.of(Capability.ONESHOT, Capability.PRIORITY));
        try (SelectSelector sel = SelectTesting.open()) {
            assertThat(sel.backend()).isEqualTo("select");
            assertThat(sel.capabilities()).isEqualTo(provider.capabilities());
            assertThat(sel.capabilities().supported()).containsExactlyInAnyOrder(Capability.ONESHOT,
                    Capability.PRIORITY);
            for (Capability c : new Capability[] {Capability.EDGE, Capability.EXCLUSIVE,
                    Capability.ERROR_HANGUP, Capability.READ_HANGUP}) {
                assertThat(sel.capabilities().supports(c)).as("%s", c).isFalse();
            }
        }
    }

    // EPOLL-ET / EPOLL-EXCLUSIVE, select column "refuse": at register, naming the mode; no key left.
    @Test
    void edgeAndExclusiveAreRefusedAtRegisterNamingThem() throws IOException {
        try (Fds fds = new Fds(); SelectSelector sel = SelectTesting.open()) {
            int[] p = fds.pipe();
            assertThatThrownBy(() -> sel.register(p[0], READ | EDGE))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("EDGE").hasMessageContaining("select")
                    .hasMessageContaining("fd " + p[0]).hasMessageContaining("backend-epoll");
            assertThatThrownBy(() -> sel.register(p[0], READ | EXCLUSIVE))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("EXCLUSIVE").hasMessageContaining("select")
                    .hasMessageContaining("fd " + p[0]).hasMessageContaining("backend-epoll");
            assertThatThrownBy(() -> sel.register(p[1], WRITE | EDGE | ONESHOT))
                    .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("EDGE");
            assertThat(sel.keys()).isEmpty();
        }
    }

    // A refused modify leaves the key as it was (the refusal comes before any change).
    @Test
    void edgeAndExclusiveAreRefusedAtModifyAndTheKeyStays() throws IOException {
        try (Fds fds = new Fds(); SelectSelector sel = SelectTesting.open()) {
            int[] p = fds.pipe();
            SelectorKey key = sel.register(p[1], WRITE, "w");
            assertThatThrownBy(() -> sel.modify(p[1], WRITE | EDGE))
                    .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("EDGE");
            assertThatThrownBy(() -> sel.modify(p[1], WRITE | EXCLUSIVE, "x"))
                    .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("EXCLUSIVE");
            assertThat(sel.key(p[1])).isSameAs(key);
            assertThat(key.isValid()).isTrue();
            assertThat(Expect.ready(sel, p[1], WRITE)).isEqualTo(WRITE);
        }
    }

    // The declared modes work: ONESHOT and PRIORITY together are accepted.
    @Test
    void oneShotAndPriorityAreAccepted() throws IOException {
        try (Fds fds = new Fds(); SelectSelector sel = SelectTesting.open()) {
            int[] sp = fds.socketPair();
            SelectorKey key = sel.register(sp[0], READ | WRITE | PRIORITY | ONESHOT);
            assertThat(key.events()).isEqualTo(READ | WRITE | PRIORITY | ONESHOT);
            assertThat(Expect.ready(sel, sp[0], WRITE)).isEqualTo(WRITE);
            Expect.notReady(sel, sp[0]);
        }
    }
}
