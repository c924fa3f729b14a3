package dev.iomux.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.EnumSet;
import java.util.stream.Stream;

import dev.iomux.Capabilities;
import dev.iomux.Capability;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.epoll.EpollSelectorProvider;
import dev.iomux.it.mutants.PollPortProvider;
import dev.iomux.poll.PollSelectorProvider;
import dev.iomux.spi.AbstractSelectorProvider;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The kit on a port that says nothing of its kernel interface ("ppoll"): the suite runs with the family
 * worked out from what the port declares, as a porter's one-line test class would have it.
 */
class PpollConformanceTest {
    private static final String PROPERTY = "iomux.conformance.mechanism.ppoll";

    private final PpollProvider ppoll = new PpollProvider();

    @TestFactory
    Stream<DynamicNode> readinessRules() {
        return Conformance.tests(ppoll);
    }

    @Test
    @ExtendWith(LeakCheck.class)
    void itsFamilyIsInferredFromWhatItDeclares() {
        assertThat(Mechanism.of(ppoll)).as("flags apart, no EDGE: poll").isSameAs(Mechanism.POLL);
        Capabilities foldingCaps = Capabilities.of(EnumSet.of(Capability.PRIORITY), 4095);
        SelectorProvider folding = new AbstractSelectorProvider("ppoll-folding", 0, foldingCaps) {
            @Override
            protected void probe() {
            }

            @Override
            protected Selector newSelector() throws IOException {
                return PollPortProvider.open(name(), foldingCaps);
            }
        };
        assertThat(Mechanism.of(folding)).as("no ERROR_HANGUP: select's fold").isSameAs(Mechanism.SELECT);
        SelectorProvider edge = declaring("edgy", EnumSet.of(Capability.EDGE, Capability.ERROR_HANGUP));
        assertThat(Mechanism.of(edge)).as("EDGE: epoll").isSameAs(Mechanism.EPOLL);
        // Level-triggered epoll declaring what poll declares: only the kernel tells them apart, epoll_ctl(2)
        // refuses a regular file with EPERM where poll(2) reports it always ready.
        SelectorProvider levelEpoll = new AbstractSelectorProvider("epoll-lt", 0,
                new PollSelectorProvider().capabilities()) {
            @Override
            protected void probe() {
            }

            @Override
            protected Selector newSelector() throws IOException {
                return new EpollSelectorProvider().open();
            }
        };
        assertThat(Mechanism.of(levelEpoll)).as("refuses regular files: epoll").isSameAs(Mechanism.EPOLL);
    }

    @Test
    void aPortMayNameItsFamilyAndThePropertyOverridesAnything() {
        Mechanism kqueue = Mechanism.family("kqueue", Mechanism.POLL);
        assertThat(kqueue.column()).as("held to the catalog's poll column").isEqualTo("poll");
        assertThat(kqueue).hasToString("kqueue (held to the poll column)");
        assertThat(Mechanism.of(new Kqueue())).isEqualTo(kqueue);
        try {
            System.setProperty(PROPERTY, "select");
            assertThat(Mechanism.of(ppoll)).isSameAs(Mechanism.SELECT);
            System.setProperty(PROPERTY, "kqueue:epoll");
            assertThat(Mechanism.of(ppoll)).isEqualTo(Mechanism.family("kqueue", Mechanism.EPOLL));
            System.setProperty(PROPERTY, "devpoll");
            assertThatThrownBy(() -> Mechanism.of(ppoll)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(PROPERTY).hasMessageContaining("devpoll")
                    .hasMessageContaining("select, poll or epoll");
        } finally {
            System.clearProperty(PROPERTY);
        }
    }

    /** A provider that names its family, as a kqueue port would; never opened. */
    private static final class Kqueue implements SelectorProvider, Mechanism.Declared {
        @Override
        public Mechanism mechanism() {
            return Mechanism.family("kqueue", Mechanism.POLL);
        }

        @Override
        public String name() {
            return "kqueue";
        }

        @Override
        public int priority() {
            return 0;
        }

        @Override
        public Capabilities capabilities() {
            return Capabilities.of(EnumSet.of(Capability.EDGE, Capability.ONESHOT), Capabilities.UNLIMITED);
        }

        @Override
        public Throwable unavailabilityCause() {
            return new UnsupportedOperationException("not here");
        }

        @Override
        public Selector open() {
            throw new UnsupportedOperationException("not here");
        }
    }

    private static SelectorProvider declaring(String name, EnumSet<Capability> caps) {
        return new AbstractSelectorProvider(name, 0, Capabilities.of(caps, Capabilities.UNLIMITED)) {
            @Override
            protected void probe() throws IOException {
                throw new IOException("never opened");
            }

            @Override
            protected Selector newSelector() {
                throw new UnsupportedOperationException("never opened");
            }
        };
    }
}
