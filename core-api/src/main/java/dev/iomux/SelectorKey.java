package dev.iomux;

import dev.iomux.spi.AbstractSelector;
import dev.iomux.spi.Registration;

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
    private final int fd;
    private final int events;
    private final Object attachment;
    // Not the Registration: the key is the only object a registration keeps, and an old key asks its
    // selector whether its registration, by id, is still the current one of its descriptor.
    private final AbstractSelector selector;
    private final int registrationId;

    /**
     * Makes a key: for a selector's implementation ({@link dev.iomux.spi.AbstractSelector} makes every
     * key of its registrations). A key is a value; making one registers nothing.
     *
     * @param registration the registration it belongs to
     * @param fd           the descriptor
     * @param events       interests and modes
     * @param attachment   the caller's attachment, possibly null
     */
    public SelectorKey(Registration registration, int fd, int events, Object attachment) {
        if (registration == null) {
            throw new NullPointerException("registration must not be null");
        }
        this.selector = registration.selector();
        this.registrationId = registration.id();
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
        return selector.isRegistered(fd, registrationId);
    }

    @Override
    public String toString() {
        return "SelectorKey[fd=" + fd + ", events=" + Events.toString(events)
                + (attachment == null ? "" : ", attachment=" + attachment) + "]";
    }
}
