package dev.iomux;

/**
 * The state of one registration of a descriptor, shared by every key of it: {@link Selector#modify}
 * makes a new key but not a new registration. Keeping this apart from the keys means an old key holds
 * only its registration, not a chain of every key that followed it, and finds the current key in one
 * step.
 */
final class Registration {
    /** Identifies the registration in its selector; never 0 (0 marks the selector's own wake-up fd). */
    final int id;
    /** The current key; replaced by modify. */
    volatile SelectorKey current;
    /** False once unregistered, or the selector closed. */
    volatile boolean registered = true;
    /** The backend's slot (poll: the index in its pollfd array); state lock. */
    int slot = -1;
    /** False once a ONESHOT key fired or a key was parked, until modify re-arms it; state lock. */
    boolean armed = true;

    Registration(int id) {
        this.id = id;
    }
}
