package dev.iomux.spi;

import dev.iomux.SelectorKey;

/**
 * One registration of a descriptor with a selector, as a backend sees it in a hook. {@link
 * dev.iomux.Selector#modify} makes a new key, not a new registration: the id stays.
 *
 * <p>A handle for the hook it was passed to, or that looked it up with
 * {@link AbstractSelector#registration(int)}: the selector keeps no such object, only the registration's
 * current key and a few ints in arrays indexed by the descriptor, which this handle reads and writes.
 * Do not keep it past the hook. Read it under the state lock (in a hook); {@link #slot} is the
 * backend's own and is changed only by the backend.
 */
public final class Registration {
    private final AbstractSelector selector;
    private final int fd;
    private final int id;
    private SelectorKey key;

    Registration(AbstractSelector selector, int fd, int id, SelectorKey key) {
        this.selector = selector;
        this.fd = fd;
        this.id = id;
        this.key = key;
    }

    /** @return the descriptor */
    public int fd() {
        return fd;
    }

    /** @return an id unique in its selector while it is registered, kept across modify, never 0 */
    public int id() {
        return id;
    }

    /** @return the current key: the latest that register or modify returned */
    public SelectorKey key() {
        return key;
    }

    /** @return the registered mask of the current key: interests and modes */
    public int events() {
        return key.events();
    }

    /**
     * Returns whether the kernel should watch the descriptor: false for a {@code ONESHOT} key that was
     * reported, or a key parked because its descriptor hung up or failed outside its interest, until
     * modify re-arms it.
     *
     * @return whether it is armed
     */
    public boolean isArmed() {
        return selector.isArmed(fd);
    }

    /**
     * @return whether it is the descriptor's current registration: false in {@link
     *         AbstractSelector#implUpdate} for a new one, which is stored once the kernel took it, and false
     *         once unregistered, or the selector closed
     */
    public boolean isRegistered() {
        return selector.isRegistered(fd, id);
    }

    /**
     * Returns the backend's own number for this registration (poll: the index of its pollfd entry);
     * -1 until the backend sets it.
     *
     * @return the slot
     */
    public int slot() {
        return selector.slot(fd);
    }

    /**
     * Sets the backend's own number for this registration.
     *
     * @param slot the slot
     */
    public void setSlot(int slot) {
        assert selector.holdsStateLock();
        selector.setSlot(fd, slot);
    }

    /** @return the selector */
    public AbstractSelector selector() {
        return selector;
    }

    void setKey(SelectorKey key) {
        this.key = key;
    }

    @Override
    public String toString() {
        SelectorKey k = key; // not the key's toString: no attachment, no user code
        return "Registration[id=" + id + ", fd=" + fd + ", events=" + dev.iomux.Events.toString(k.events())
                + (isRegistered() ? "" : ", unregistered")
                + (isArmed() ? "" : ", disarmed") + "]";
    }
}
