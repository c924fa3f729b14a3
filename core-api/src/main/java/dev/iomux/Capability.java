package dev.iomux;

/**
 * Something a backend may or may not do (rule API-CAPABILITIES). A backend declares its capabilities in
 * {@link Capabilities}; asking for a mode it does not declare fails at {@link Selector#register} with an
 * {@link UnsupportedOperationException} naming the capability.
 */
public enum Capability {
    /** Accepts the {@link Events#EDGE} mode. */
    EDGE("edge-triggered mode (Events.EDGE)"),
    /** Accepts the {@link Events#ONESHOT} mode, natively or emulated. */
    ONESHOT("one-shot mode (Events.ONESHOT)"),
    /** Accepts the {@link Events#EXCLUSIVE} mode. */
    EXCLUSIVE("exclusive wake-up mode (Events.EXCLUSIVE)"),
    /** Watches {@link Events#PRIORITY} (urgent data). */
    PRIORITY("priority interest (Events.PRIORITY)"),
    /** Reports {@link Events#ERROR} and {@link Events#HANGUP} apart from readable and writable. */
    ERROR_HANGUP("distinct ERROR and HANGUP flags"),
    /** Reports {@link Events#READ_HANGUP} (the peer shut its writing side). */
    READ_HANGUP("the READ_HANGUP flag");

    private final String description;

    Capability(String description) {
        this.description = description;
    }

    /**
     * Returns a short description for messages.
     *
     * @return e.g. "edge-triggered mode (Events.EDGE)"
     */
    public String description() {
        return description;
    }
}
