package dev.iomux.conformance;

import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static dev.iomux.conformance.Scenarios.uses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import dev.iomux.Capability;
import dev.iomux.NativeIOException;
import dev.iomux.Ready;
import dev.iomux.Selector;
import dev.iomux.SelectorProvider;
import dev.iomux.Selectors;
import dev.iomux.io.ChannelDescriptors;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Fds;
import dev.iomux.testing.SelectorContract;

/**
 * Section 9 of the catalog: the selector API (Python selectors parity). Most of it is core-api's
 * {@link SelectorContract}, run here case by case: the kit is the contract's only runner, so each case runs
 * once per backend.
 */
final class ApiScenarios {
    /** API-MANY-FDS: "thousands of descriptors (well past 1024)": 5000 or more. */
    static final int MANY_FDS = 5_200;

    private ApiScenarios() {
    }

    static void define(Scenarios.Builder b) {
        b.rule("API-REGISTER", uses(Uses.PIPE, Uses.UNIX), run -> run.contract(
                SelectorContract::registerReturnsTheKey,
                SelectorContract::registerRefusesBadMasksNamingTheFd,
                SelectorContract::registerRefusesADuplicate,
                SelectorContract::aDuplicateRegisterRunsNoUserCodeInItsMessage,
                SelectorContract::registerRefusesAClosedFdOnEveryBackendAndLeavesNoKey,
                SelectorContract::aHugeOrMadeUpFdIsEbadfNotAnOutOfMemoryError));
        b.rule("API-UNREGISTER", Uses.PIPE, run -> run.contract(
                SelectorContract::unregisterReturnsTheKeyAndRefusesUnknownFds,
                SelectorContract::unregisterWorksAfterTheFdWasClosed,
                SelectorContract::unregisterWorksAfterTheFdWasClosedAndItsNumberReused,
                SelectorContract::unregisterWorksAfterTheFdsNumberWasReusedByARegularFile));
        b.rule("API-MODIFY", Uses.PIPE, ApiScenarios::modify);
        b.rule("API-CLOSE", Uses.PIPE, run -> run.contract(
                SelectorContract::afterCloseEverythingFailsAsClosedAndCloseTwiceIsHarmless,
                SelectorContract::closeReleasesDescriptorsAndNativeMemory));
        b.rule("API-KEYS", Uses.PIPE, run -> run.contract(SelectorContract::keysIsALiveReadOnlyView));
        b.rule("API-SELECT-RESULT", uses(Uses.PIPE, Uses.UNIX), run -> run.contract(
                SelectorContract::aKeyReadyBothWaysIsOneEntryWithBothEvents,
                SelectorContract::eventsStayWithinTheInterest,
                SelectorContract::handlerSelectDeliversEachReadyKeyOnce,
                SelectorContract::keysLeftByAThrowingHandlerAreDeliveredByTheNextSelect,
                SelectorContract::aHandlerMayCloseTheSelector,
                SelectorContract::selectFromInsideAHandlerIsRefused,
                SelectorContract::theHandlerSelectAllocatesNothingInSteadyState));
        b.rule("API-DEFAULT", Uses.PIPE, ApiScenarios::discovery);
        b.rule("API-CAPABILITIES", Uses.PIPE, ApiScenarios::capabilities);
        b.rule("API-MANY-FDS", Uses.PIPE, ApiScenarios::manyFds);
        b.rule("API-THREADS", uses(Uses.PIPE, Uses.THREADS), ApiScenarios::threads);
        b.rule("API-CHANNELS", uses(Uses.CHANNELS, Uses.UNIX, Uses.TCP4, Uses.TCP6), ApiScenarios::channels);
    }

    static void modify(Run run) throws Exception {
        run.contract(SelectorContract::modifyReturnsANewKeyAndLeavesTheOldOne,
                SelectorContract::anOldKeyDoesNotKeepTheKeysThatReplacedItAlive,
                SelectorContract::modifyChangesWhatIsReported,
                SelectorContract::modifyRefusesUnknownFds);
        // A change the kernel refuses: the fd was closed behind the selector's back. A backend that calls
        // the kernel at modify (epoll_ctl MOD) must drop the key and raise; one that applies changes at the
        // next select may accept it and report the closed fd then (CLOSED-FD).
        Selector sel = run.open();
        int[] p = run.fds().pipe();
        sel.register(p[0], READ);
        run.fds().close(p[0]);
        try {
            sel.modify(p[0], READ | WRITE);
            run.note("modify of a closed fd: accepted, applied at the next select");
            sel.unregister(p[0]);
        } catch (NativeIOException e) {
            assertThat(e.getMessage()).as("the error names the fd").contains(String.valueOf(p[0]));
            assertThat(sel.key(p[0])).as("the key the kernel refused is removed").isNull();
            run.note("modify of a closed fd: " + e.getMessage() + "; key removed");
        }
    }

    static void discovery(Run run) throws Exception {
        List<SelectorProvider> all = Selectors.providers();
        SelectorProvider best = all.stream().filter(SelectorProvider::isAvailable).findFirst().orElseThrow();
        String forced = System.getProperty(Selectors.BACKEND_PROPERTY);
        if (forced == null) {
            assertThat(Selectors.defaultProvider().name()).as("the default is the best available").isEqualTo(best.name());
        }
        for (int i = 1; i < all.size(); i++) {
            assertThat(all.get(i - 1).priority()).as("providers are listed best first")
                    .isGreaterThanOrEqualTo(all.get(i).priority());
        }
        run.note("providers " + all.stream().map(p -> p.name() + (p.isAvailable() ? "" : " (unavailable)")).toList()
                + ", default " + best.name());
        for (SelectorProvider p : all) {
            if (!p.isAvailable()) {
                Throwable t = catchThrowable(() -> Selectors.open(p.name()));
                assertThat(t).as("opening unavailable %s", p.name()).isNotNull();
                assertThat(t.getMessage()).as("says why").contains(p.name());
            }
        }
        Throwable unknown = catchThrowable(() -> Selectors.open("no-such-backend"));
        assertThat(unknown).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no-such-backend");
        String name = run.provider().name();
        if (all.stream().noneMatch(p -> p.name().equals(name))) {
            run.note(name + " is not registered with ServiceLoader: by-name selection not checked");
            return;
        }
        try (Selector byName = Selectors.open(name)) {
            assertThat(byName.backend()).isEqualTo(name);
        }
        synchronized (System.getProperties()) {
            try {
                System.setProperty(Selectors.BACKEND_PROPERTY, name);
                try (Selector byProperty = Selectors.open()) {
                    assertThat(byProperty.backend()).as("-D%s=%s", Selectors.BACKEND_PROPERTY, name).isEqualTo(name);
                }
            } finally {
                if (forced == null) {
                    System.clearProperty(Selectors.BACKEND_PROPERTY);
                } else {
                    System.setProperty(Selectors.BACKEND_PROPERTY, forced);
                }
            }
        }
        run.note(name + " chosen by name and by -D" + Selectors.BACKEND_PROPERTY);
    }

    static void capabilities(Run run) throws Exception {
        run.contract(SelectorContract::undeclaredModesAreRefusedNamingTheCapability,
                SelectorContract::exclusiveRefusesOneShotAndPriority,
                SelectorContract::fdAboveTheBackendLimitIsRefusedAndBelowItWatched);
        try (Selector sel = run.open()) {
            assertThat(sel.capabilities()).as("the selector declares what its provider declares")
                    .isEqualTo(run.capabilities());
        }
        run.note("declares " + run.capabilities());
    }

    /**
     * Thousands of pipes in one selector, a hundred of them made ready at random: exactly those are reported.
     * A backend with a descriptor limit (select) must refuse the first fd past it.
     */
    static void manyFds(Run run) throws Exception {
        Descriptors.raiseLimit(MANY_FDS + 1_000);
        Selector sel = run.open();
        int max = run.capabilities().maxFd();
        List<int[]> pipes = new ArrayList<>();
        int refusedAt = -1;
        while (pipes.size() * 2 < MANY_FDS) {
            int[] p = run.fds().pipe();
            pipes.add(p);
            if (p[0] > max) {
                Throwable t = catchThrowable(() -> sel.register(p[0], READ));
                assertThat(t).as("fd %d is past the declared maximum %d", p[0], max)
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fd " + p[0]);
                refusedAt = p[0];
                break;
            }
            sel.register(p[0], READ, p);
        }
        int registered = sel.keys().size();
        SplittableRandom random = new SplittableRandom(42);
        Set<Integer> expected = new HashSet<>();
        while (expected.size() < Math.min(100, registered)) {
            int[] p = pipes.get(random.nextInt(registered));
            if (expected.add(p[0])) {
                Fds.write(p[1], 1);
            }
        }
        Set<Integer> seen = new HashSet<>();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!seen.containsAll(expected) && System.nanoTime() < deadline) {
            for (Ready r : sel.select(Duration.ofMillis(200))) {
                assertThat(expected).as("only written pipes are reported").contains(r.fd());
                seen.add(r.fd());
            }
        }
        assertThat(seen).as("every written pipe is reported").containsExactlyInAnyOrderElementsOf(expected);
        for (int fd : expected) {
            Fds.drain(fd);
        }
        assertThat(sel.select(Duration.ofMillis(50))).as("drained: nothing").isEmpty();
        run.note(registered + " fds registered (highest " + pipes.get(registered - 1)[0] + "), "
                + expected.size() + " written, all reported"
                + (refusedAt < 0 ? "" : "; fd " + refusedAt + " refused past maxFd " + max));
        for (int[] p : pipes) {
            run.fds().close(p[0]);
            run.fds().close(p[1]);
        }
    }

    static void threads(Run run) throws Exception {
        run.contract(SelectorContract::aRegistrationFromAnotherThreadReachesABlockedSelect,
                SelectorContract::changesFromAnotherThreadDoNotCutATimedSelectShort,
                SelectorContract::oneThreadSelectsAtATime,
                SelectorContract::selectRacingCloseFailsOnlyAsClosed);
        if (run.supports(Capability.ONESHOT)) {
            run.contract(SelectorContract::aOneShotKeyRearmedFromAnotherThreadReachesABlockedSelect);
        }
    }

    static void channels(Run run) throws Exception {
        run.contract(SelectorContract::aJnrUnixSocketChannelCanBeRegistered,
                SelectorContract::sockaddrDescriptorsOfEveryKindCanBeRegistered);
        // A JDK NIO channel: its fd when the JDK lets us read it, else an error naming the flag to add.
        java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
        try (var source = pipe.source(); var sink = pipe.sink()) {
            int fd;
            try {
                fd = ChannelDescriptors.of(source);
            } catch (RuntimeException e) {
                assertThat(e.getMessage()).as("how to open access").contains(ChannelDescriptors.ADD_OPENS_NIO);
                run.note("JDK NIO channel: " + e.getMessage());
                return;
            }
            Selector sel = run.open();
            sel.register(fd, READ);
            sink.write(ByteBuffer.wrap(new byte[] {1}));
            run.ready(sel, fd, READ, "JDK NIO Pipe.SourceChannel fd " + fd);
            sel.unregister(fd);
        }
    }
}
