package dev.iomux.conformance;

import static dev.iomux.Events.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.iomux.Capability;
import dev.iomux.Events;
import dev.iomux.Selector;

/** How an undeclared mode must be refused (API-CAPABILITIES): at register, clearly, leaving no key. */
final class Modes {
    private Modes() {
    }

    /**
     * Checks that registering a pipe with {@code events} fails with an exception naming the capability and
     * the fd, and leaves no key; records the refusal.
     */
    static void refuses(Run run, int events, Capability c) throws Exception {
        Selector sel = run.open();
        int[] p = run.fds().pipe();
        Throwable t = catchThrowable(() -> sel.register(p[0], events));
        assertThat(t).as("%s declares no %s: register(%s) must be refused", run.backend(), c, Events.toString(events))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThat(t.getMessage()).as("the refusal names the mode and the fd")
                .contains(c.description()).contains("fd " + p[0]);
        assertThat(sel.key(p[0])).as("no key is left behind").isNull();
        // The same descriptor is still welcome without the mode.
        sel.register(p[0], READ);
        run.note("refuses " + c + " (not declared): " + t.getMessage());
    }
}
