package dev.iomux.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;

import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.Selectors;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Rule API-DEFAULT: the default selector is the best available backend (epoll, then poll, then select);
 * a backend can be chosen by name or by system property; an unavailable backend says why. Each backend
 * jar registers its provider through ServiceLoader.
 */
@ExtendWith(LeakCheck.class)
class SelectorsDiscoveryTest {

    @AfterEach
    void clearProperty() {
        System.clearProperty(Selectors.BACKEND_PROPERTY);
    }

    @Test
    void everyBackendJarRegistersItsProviderBestFirst() {
        assertThat(Selectors.providers()).extracting(SelectorProvider::name)
                .containsExactly("kqueue", "epoll", "poll", "select", "uring", "uring-single");
        for (String name : new String[] {"epoll", "poll", "select", "uring", "uring-single"}) {
            SelectorProvider p = Selectors.provider(name);
            assertThat(p.isAvailable()).as(name).isTrue();
            assertThat(p.unavailabilityCause()).as(name).isNull();
        }
    }

    @Test
    void theDefaultIsTheBestAvailableBackend() throws IOException {
        // The higher-ranked test provider is unavailable, so epoll wins.
        assertThat(Selectors.defaultProvider().name()).isEqualTo("epoll");
        try (Selector s = Selectors.open()) {
            assertThat(s.backend()).isEqualTo("epoll");
        }
    }

    @Test
    void aBackendCanBeChosenByNameOrProperty() throws IOException {
        for (String name : new String[] {"select", "poll", "epoll", "uring", "uring-single", "POLL"}) {
            try (Selector s = Selectors.open(name)) {
                assertThat(s.backend()).isEqualTo(name.toLowerCase());
                assertThat(s.capabilities()).isEqualTo(Selectors.provider(name).capabilities());
            }
        }
        System.setProperty(Selectors.BACKEND_PROPERTY, "select");
        try (Selector s = Selectors.open()) {
            assertThat(s.backend()).isEqualTo("select");
        }
    }

    @Test
    void anUnknownNameSaysWhatIsThereAndWhatToAdd() {
        assertThatThrownBy(() -> Selectors.open("devpoll")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("devpoll").hasMessageContaining("epoll").hasMessageContaining("select")
                .hasMessageContaining("dev.iomux:backend-devpoll");
        System.setProperty(Selectors.BACKEND_PROPERTY, "nope");
        assertThatThrownBy(Selectors::open).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nope");
    }

    @Test
    void anUnavailableBackendSaysWhy() {
        assertThatThrownBy(() -> Selectors.open("kqueue")).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("kqueue backend is not available here")
                .hasMessageContaining(UnavailableProvider.WHY);
        System.setProperty(Selectors.BACKEND_PROPERTY, "kqueue");
        assertThatThrownBy(Selectors::open).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining(UnavailableProvider.WHY);
    }
}
