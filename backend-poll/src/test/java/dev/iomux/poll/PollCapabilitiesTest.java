package dev.iomux.poll;

import static dev.iomux.Events.EDGE;
import static dev.iomux.Events.EXCLUSIVE;
import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static dev.iomux.poll.PollTesting.open;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;

import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.SelectorKey;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Rule API-CAPABILITIES for poll: ONESHOT (emulated), PRIORITY (POLLPRI), distinct ERROR/HANGUP and
 * READ_HANGUP (POLLRDHUP); no descriptor limit (API-MANY-FDS, SELECT-FDSETSIZE: poll watches fd 1500);
 * no EDGE or EXCLUSIVE (EPOLL-ET, EPOLL-EXCLUSIVE: "refuse"), refused with a pointer to backend-epoll.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PollCapabilitiesTest {

    @Test
    void theDeclarationIsExactlyOneShotPriorityAndTheFlagsWithoutAnFdLimit() throws IOException {
        PollSelectorProvider provider = new PollSelectorProvider();
        assertThat(provider.name()).isEqualTo("poll");
        assertThat(provider.unavailabilityCause()).isNull();
        Capabilities declared = provider.capabilities();
        assertThat(declared.supported()).containsExactlyInAnyOrderElementsOf(EnumSet.of(
                Capability.ONESHOT, Capability.PRIORITY, Capability.ERROR_HANGUP, Capability.READ_HANGUP));
        assertThat(declared.supports(Capability.EDGE)).isFalse();
        assertThat(declared.supports(Capability.EXCLUSIVE)).isFalse();
        assertThat(declared.maxFd()).isEqualTo(Capabilities.UNLIMITED);
        try (PollSelector sel = open()) {
            assertThat(sel.backend()).isEqualTo("poll");
            assertThat(sel.capabilities()).isEqualTo(declared).isSameAs(PollSelector.CAPABILITIES);
        }
    }

    @Test
    void edgeAndExclusiveAreRefusedAtRegisterNamingThemAndSuggestingEpoll() throws IOException {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] p = fds.pipe();
            for (int mode : new int[] {EDGE, EXCLUSIVE, EDGE | ONESHOT}) {
                String name = (mode & EDGE) != 0 ? "EDGE" : "EXCLUSIVE";
                assertThatThrownBy(() -> sel.register(p[0], READ | mode))
                        .as(name).isInstanceOf(UnsupportedOperationException.class)
                        .hasMessageContaining("poll").hasMessageContaining(name)
                        .hasMessageContaining("fd " + p[0]).hasMessageContaining("backend-epoll");
            }
            assertThat(sel.keys()).as("a refused register leaves no key").isEmpty();
            long array = PollInspector.arrayAddress(sel);
            PollInspector.mark(sel);
            assertThat(sel.selectNow()).isEmpty();
            assertThat(PollInspector.used(sel)).as("nothing was recorded for the array: the wake-up slot only")
                    .isEqualTo(1);
            assertThat(PollInspector.rewritten(sel)).isEmpty();
            assertThat(PollInspector.arrayAddress(sel)).isEqualTo(array);
        }
    }

    @Test
    void edgeAndExclusiveAreRefusedAtModifyLeavingTheKeyAsItWas() throws IOException {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] p = fds.pipe();
            SelectorKey key = sel.register(p[1], WRITE, "w");
            assertThat(sel.selectNow()).hasSize(1);
            assertThatThrownBy(() -> sel.modify(p[1], WRITE | EDGE)).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("EDGE").hasMessageContaining("backend-epoll");
            assertThatThrownBy(() -> sel.modify(p[1], WRITE | EXCLUSIVE, "x"))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("EXCLUSIVE").hasMessageContaining("backend-epoll");
            assertThat(sel.key(p[1])).isSameAs(key);
            assertThat(sel.selectNow()).extracting(r -> r.attachment()).containsExactly("w");
        }
    }

    @Test
    void theDeclaredModesAreAccepted() throws IOException {
        try (Fds fds = new Fds(); PollSelector sel = open()) {
            int[] sp = fds.socketPair();
            sel.register(sp[0], READ | WRITE | PRIORITY | ONESHOT);
            assertThat(sel.selectNow()).hasSize(1);
            assertThat(sel.selectNow()).as("ONESHOT: fired once").isEmpty();
        }
    }
}
