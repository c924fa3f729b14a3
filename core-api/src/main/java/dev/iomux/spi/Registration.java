package dev.iomux.spi;

import dev.iomux.SelectorKey;

/**
 * One registration of a descriptor with a selector: the handle a backend gets in every hook, and the
 * state every key of it shares. {@link dev.iomux.Selector#modify} makes a new key, not a new
 * registration, so an old key holds only its registration, not a chain of every key that followed it.
 *
 * <p>Read it under the state lock (in a hook); {@link #slot} is the backend's own and is changed only
 * by the backend.
 */
public final class Registration {
    private final AbstractSelector selector;
    private final int id;
    private volatile SelectorKey key;
    private volatile boolean registered = true;
    private int slot = -1;          // the backend's; state lock
    boolean armed = true;           // state lock
    int batchIndex = -1;            // the entry in the ready batch being gathered or delivered; selecting thread

    Registration(AbstractSelector selector, int id) {
        this.selector = selector;
        this.id = id;
    }

    /** @return the descriptor */
    public int fd() {
        return key.fd();
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
        return armed;
    }

    /** @return false once unregistered, or the selector closed */
    public boolean isRegistered() {
        return registered;
    }

    /**
     * Returns the backend's own number for this registration (poll: the index of its pollfd entry);
     * -1 until the backend sets it.
     *
     * @return the slot
     */
    public int slot() {
        return slot;
    }

    /**
     * Sets the backend's own number for this registration.
     *
     * @param slot the slot
     */
    public void setSlot(int slot) {
        assert selector.holdsStateLock();
        this.slot = slot;
    }

    /** @return the selector */
    public AbstractSelector selector() {
        return selector;
    }

    void setKey(SelectorKey key) {
        this.key = key;
    }

    void unregistered() {
        registered = false;
    }

    @Override
    public String toString() {
        SelectorKey k = key; // not the key's toString: no attachment, no user code
        return "Registration[id=" + id + ", fd=" + k.fd() + ", events=" + dev.iomux.Events.toString(k.events())
                + (registered ? "" : ", unregistered")
                + (armed ? "" : ", disarmed") + "]";
    }
}
