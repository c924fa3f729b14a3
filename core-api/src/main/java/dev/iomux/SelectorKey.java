package dev.iomux;

/**
 * A registration of a descriptor with a selector: the descriptor, the events registered (interest plus
 * modes) and the caller's attachment.
 *
 * <p>A key is an immutable value, like Python's {@code SelectorKey}: {@link Selector#modify} returns a
 * new key and leaves this one as it was; {@link Selector#key(int)} always returns the current one.
 * {@link #isValid()} tells whether the registration this key belongs to still exists (it survives
 * modify, and ends with unregister or the selector's close).
 */
public final class SelectorKey {
    private final AbstractSelector selector;
    private final int fd;
    private final int events;
    private final Object attachment;

    // Registration state, shared by the keys of one registration through 'successor'. Package-private
    // for AbstractSelector; backends reach it through AbstractSelector's protected accessors.
    /** Identifies the registration across modify; never 0 (0 marks the selector's own wake-up fd). */
    final int id;
    /** The backend's per-registration slot (poll: index in the pollfd array), guarded by the state lock. */
    int slot = -1;
    /** False once a ONESHOT key fired or a key was parked, until modify re-arms it; state lock. */
    boolean armed = true;
    /** The key that replaced this one in a modify, or null while this one is current. */
    volatile SelectorKey successor;
    /** False once unregistered, or the selector closed. Only the current key's value counts. */
    volatile boolean registered = true;

    SelectorKey(AbstractSelector selector, int id, int fd, int events, Object attachment) {
        this.selector = selector;
        this.id = id;
        this.fd = fd;
        this.events = events;
        this.attachment = attachment;
    }

    /** @return the registered descriptor */
    public int fd() {
        return fd;
    }

    /** @return the registered mask: interests ({@link Events#INTERESTS}) and modes ({@link Events#MODES}) */
    public int events() {
        return events;
    }

    /** @return the registered interests only, {@code events() & Events.INTERESTS} */
    public int interest() {
        return events & Events.INTERESTS;
    }

    /** @return the caller's attachment, possibly null */
    public Object attachment() {
        return attachment;
    }

    /** @return the selector this key belongs to */
    public Selector selector() {
        return selector;
    }

    /**
     * Returns whether this key's registration still exists: not unregistered and the selector not closed.
     * A key replaced by {@link Selector#modify} stays valid while its replacement is.
     *
     * @return true while registered
     */
    public boolean isValid() {
        return latest().registered;
    }

    /** Follows modify's replacements to the current key of this registration. */
    SelectorKey latest() {
        SelectorKey k = this;
        for (SelectorKey next = k.successor; next != null; next = k.successor) {
            k = next;
        }
        return k;
    }

    @Override
    public String toString() {
        return "SelectorKey[fd=" + fd + ", events=" + Events.toString(events)
                + (attachment == null ? "" : ", attachment=" + attachment) + "]";
    }
}
