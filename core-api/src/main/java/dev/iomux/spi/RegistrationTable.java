package dev.iomux.spi;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

import dev.iomux.SelectorKey;

/**
 * Every registration of a selector, in arrays indexed by the descriptor: its current key, its id, and its
 * state with the backend's slot in one int. The key is the only object a registration has.
 *
 * <p>Internal. Descriptors are small, dense integers (the kernel hands out the lowest free number,
 * open(2)), so an array is both the smallest and the fastest int-keyed map for them, as libuv's
 * {@code loop->watchers[fd]}: no hashing, no boxing, no entry objects. The arrays grow by half, not by
 * doubling, to fit the highest descriptor stored, so that little of them is unused; 12 bytes per number.
 *
 * <p>Written under the state lock. Keys and ids are also read without it, by {@link SelectorKey#isValid()}
 * from any thread and by delivery in the selecting thread: those reads are {@link #keyAcquire} and
 * {@link #idAcquire}, and their stores volatile. A registration stores its key before its id and removes
 * its id before its key, so a reader that sees a key and then its descriptor's id sees that key's
 * registration's id, or 0, or a later one: never an earlier one. An array is never written after it was
 * replaced by a larger copy, so a reader holding the old one sees what was true when it was replaced;
 * the ids array is replaced before the keys array, so a reader that sees new keys sees new ids too.
 */
final class RegistrationTable {
    private static final VarHandle KEYS = MethodHandles.arrayElementVarHandle(SelectorKey[].class);
    private static final VarHandle IDS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle KEYS_FIELD;
    private static final VarHandle IDS_FIELD;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            KEYS_FIELD = lookup.findVarHandle(RegistrationTable.class, "keys", SelectorKey[].class);
            IDS_FIELD = lookup.findVarHandle(RegistrationTable.class, "ids", int[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private static final int INITIAL = 64;

    /** The bits of a word that hold the backend's slot + 1: 0 is "none" (-1). */
    private static final int SLOT_BITS = (1 << 30) - 1;
    /** The highest slot a backend may set: far above any count of descriptors (fs.nr_open). */
    static final int MAX_SLOT = SLOT_BITS - 1;
    /** Word bit: a reported ONESHOT key, or one parked on a hang-up or error (Registration#isArmed). */
    private static final int DISARMED = 1 << 30;
    /** Word bit: in the ready batch being gathered, so a second report merges into its entry. */
    private static final int IN_BATCH = 1 << 31;

    // Not volatile: under the state lock they are read plainly, so that the JIT may keep them in registers
    // across a collecting loop; readers without the lock read them with acquire, and every replacement of
    // an array is a release (KEYS_FIELD, IDS_FIELD).
    private SelectorKey[] keys = new SelectorKey[INITIAL];
    private int[] ids = new int[INITIAL]; // the registration's id, never 0; 0: none
    // IN_BATCH | DISARMED | slot + 1; 0 for a new registration: no slot, armed, in no batch
    private int[] words = new int[INITIAL];
    private int size;

    /** @return the current key of a descriptor, or null; state lock held, or the selecting thread's own */
    SelectorKey key(int fd) {
        SelectorKey[] k = keys;
        return fd < k.length ? k[fd] : null;
    }

    /** @return the current key of a descriptor, or null; any thread */
    SelectorKey keyAcquire(int fd) {
        SelectorKey[] k = (SelectorKey[]) KEYS_FIELD.getAcquire(this);
        return fd >= 0 && fd < k.length ? (SelectorKey) KEYS.getAcquire(k, fd) : null;
    }

    /** @return the id of a descriptor's registration, 0 if none; state lock held */
    int id(int fd) {
        int[] i = ids;
        return fd < i.length ? i[fd] : 0;
    }

    /** @return the id of a descriptor's registration, 0 if none; any thread */
    int idAcquire(int fd) {
        int[] i = (int[]) IDS_FIELD.getAcquire(this);
        return fd >= 0 && fd < i.length ? (int) IDS.getAcquire(i, fd) : 0;
    }

    /** Makes room for a descriptor, so that its state and slot can be set before its key is stored. */
    void ensureCapacity(int fd) {
        SelectorKey[] k = keys;
        if (fd < k.length) {
            return;
        }
        // By half, or straight to fd + 1; in long arithmetic, so a huge fd cannot wrap the size.
        int length = (int) Math.min(Math.max(k.length + (k.length >> 1), fd + 1L), Integer.MAX_VALUE - 8);
        words = Arrays.copyOf(words, length);
        // The ids first: a reader that sees the new keys sees the new ids (see the class comment).
        IDS_FIELD.setRelease(this, Arrays.copyOf(ids, length));
        KEYS_FIELD.setRelease(this, Arrays.copyOf(k, length));
    }

    /** Stores a new registration's key and id. */
    void add(int fd, int id, SelectorKey key) {
        ensureCapacity(fd);
        KEYS.setVolatile(keys, fd, key);
        IDS.setVolatile(ids, fd, id);
        size++;
    }

    /** Replaces the key of a registered descriptor (modify): same registration, same id. */
    void replace(int fd, SelectorKey key) {
        KEYS.setVolatile(keys, fd, key);
    }

    /** Removes a descriptor's registration: its id and key; its state and slot stay until {@link #reset}. */
    void remove(int fd) {
        SelectorKey[] k = keys;
        if (fd < k.length) {
            if (k[fd] != null) {
                size--;
            }
            IDS.setVolatile(ids, fd, 0);
            KEYS.setVolatile(k, fd, null);
        }
    }

    /** Clears the state and slot of a removed registration, once the backend is done with them. */
    void reset(int fd) {
        if (fd < words.length) {
            words[fd] = 0;
        }
    }

    boolean isArmed(int fd) {
        int[] w = words;
        return fd >= w.length || (w[fd] & DISARMED) == 0;
    }

    void setArmed(int fd, boolean armed) {
        ensureCapacity(fd);
        words[fd] = armed ? words[fd] & ~DISARMED : words[fd] | DISARMED;
    }

    boolean isInBatch(int fd) {
        return (words[fd] & IN_BATCH) != 0;
    }

    void setInBatch(int fd, boolean in) {
        words[fd] = in ? words[fd] | IN_BATCH : words[fd] & ~IN_BATCH;
    }

    /** Clears {@link #isInBatch} once the batch is gathered; the descriptor may be unregistered since. */
    void leftBatch(int fd) {
        if (fd < words.length) {
            words[fd] &= ~IN_BATCH;
        }
    }

    int slot(int fd) {
        int[] w = words;
        return fd < w.length ? (w[fd] & SLOT_BITS) - 1 : -1;
    }

    void setSlot(int fd, int slot) {
        if (slot < -1 || slot > MAX_SLOT) {
            throw new IllegalArgumentException("slot " + slot + " of fd " + fd + " is out of range: -1 to "
                    + MAX_SLOT);
        }
        ensureCapacity(fd); // a new registration's, set before its key is stored
        words[fd] = (words[fd] & ~SLOT_BITS) | (slot + 1);
    }

    /** @return the number of registrations */
    int size() {
        return size;
    }

    /** @return the current keys, in descriptor order */
    SelectorKey[] keys() {
        SelectorKey[] out = new SelectorKey[size];
        SelectorKey[] k = keys;
        int n = 0;
        for (int fd = 0; fd < k.length && n < out.length; fd++) {
            if (k[fd] != null) {
                out[n++] = k[fd];
            }
        }
        return out;
    }

    /** Removes everything and shrinks back to the initial capacity. */
    void clear() {
        words = new int[INITIAL];
        IDS_FIELD.setVolatile(this, new int[INITIAL]);
        KEYS_FIELD.setVolatile(this, new SelectorKey[INITIAL]);
        size = 0;
    }
}
