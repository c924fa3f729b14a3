package dev.iomux.poll;

import java.io.IOException;

/** Helpers shared by the poll backend's own tests. */
final class PollTesting {
    /** The CPU a select may burn while it waits: a spinning loop burns nearly all of its wait. */
    static final long IDLE_CPU_LIMIT_MILLIS = 150;

    private PollTesting() {
    }

    /** Opens a poll selector as the backend's own class, so that package-private state can be checked. */
    static PollSelector open() throws IOException {
        return (PollSelector) new PollSelectorProvider().open();
    }

}
