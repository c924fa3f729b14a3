package dev.iomux.uring;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import dev.iomux.NativeIOException;
import dev.iomux.spi.Kernel;
import dev.iomux.spi.NativeBuffer;
import dev.iomux.uring.binding.UringLib;
import jnr.ffi.LastError;
import jnr.ffi.Platform;
import jnr.ffi.Runtime;

/**
 * One io_uring instance: set up with io_uring_setup(2), its rings mapped with mmap(2) (one mapping for the
 * submission and completion rings, IORING_FEAT_SINGLE_MMAP, and one for the SQE array), entered with
 * io_uring_enter(2). Offsets and layouts are the kernel's include/uapi/linux/io_uring.h.
 *
 * <p><b>Memory ordering</b>, as liburing does it: the kernel writes the CQ tail and the SQ head, we read
 * them with load-acquire (so the CQEs before the tail, and the SQ slots the kernel is done with, are seen
 * as written); we write the SQ tail and the CQ head with store-release (so the SQEs, and our reads of the
 * CQEs, come before the kernel sees the new index). Both through a {@link VarHandle} over a direct
 * {@link ByteBuffer} of the mapping ({@link MethodHandles#byteBufferViewVarHandle}), whose
 * {@code getAcquire} and {@code setRelease} are supported for aligned ints of a direct buffer since Java 9:
 * the JIT emits a plain move on x86-64 (TSO) and ldar/stlr on AArch64, exactly the barriers the protocol
 * needs, where jnr's {@code Pointer} with {@code VarHandle.acquireFence}/{@code releaseFence} would put a
 * full barrier on AArch64 and leave the pairing of fence and access to every call site.
 *
 * <p>Not thread-safe: the selector writes SQEs and reads CQEs under its state lock, and enters the ring
 * from its selecting thread.
 */
final class Ring {
    static final UringLib LIB = UringLib.Holder.LIB;
    private static final Runtime RUNTIME = Runtime.getRuntime(LIB);

    // System call numbers: the same on x86-64, AArch64 and RISC-V 64 (io_uring came after the tables were
    // unified: include/uapi/asm-generic/unistd.h and arch/x86/entry/syscalls/syscall_64.tbl).
    static final long SYS_IO_URING_SETUP = 425;
    static final long SYS_IO_URING_ENTER = 426;
    static final long SYS_IO_URING_REGISTER = 427;
    // mmap: x86-64's table, and the generic one of AArch64 and RISC-V 64.
    static final long SYS_MMAP = Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64 ? 9 : 222;

    // io_uring_setup flags
    static final int SETUP_CQSIZE = 1 << 3;
    static final int SETUP_CLAMP = 1 << 4;
    static final int SETUP_R_DISABLED = 1 << 6;
    static final int SETUP_SUBMIT_ALL = 1 << 7;
    static final int SETUP_COOP_TASKRUN = 1 << 8;
    static final int SETUP_TASKRUN_FLAG = 1 << 9;
    static final int SETUP_SINGLE_ISSUER = 1 << 12;
    static final int SETUP_DEFER_TASKRUN = 1 << 13;
    // io_uring_register opcodes
    static final int REGISTER_ENABLE_RINGS = 12;
    // features
    static final int FEAT_SINGLE_MMAP = 1;
    static final int FEAT_NODROP = 1 << 1;
    static final int FEAT_RSRC_TAGS = 1 << 10;
    static final int FEAT_CQE_SKIP = 1 << 11;
    // io_uring_enter flags
    static final int ENTER_GETEVENTS = 1;
    // opcodes
    static final byte OP_POLL_ADD = 6;
    static final byte OP_POLL_REMOVE = 7;
    static final byte OP_TIMEOUT = 11;
    // sqe flags
    static final byte IOSQE_CQE_SKIP_SUCCESS = 1 << 6;
    // poll flags (sqe->len)
    static final int POLL_ADD_MULTI = 1;
    // cqe flags
    static final int CQE_F_MORE = 1 << 1;
    // sq_flags, written by the kernel
    static final int SQ_CQ_OVERFLOW = 1 << 1;
    static final int SQ_TASKRUN = 1 << 2;
    // errnos (asm-generic/errno-base.h, errno.h)
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int EBUSY = 16;
    static final int EINVAL = 22;
    static final int ENOSYS = 38;
    static final int EEXIST = 17;
    static final int ETIME = 62;
    static final int EBADFD = 77;
    static final int ECANCELED = 125;

    private static final long IORING_OFF_SQES = 0x10000000L;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_SHARED_POPULATE = 0x01 | 0x8000;
    private static final int PARAMS_SIZE = 120;
    private static final int SQE_SIZE = 64;
    private static final int CQE_SIZE = 16;
    private static final int TIMESPEC_SIZE = 16; // struct __kernel_timespec

    // syscall(2) through jffi itself for the six-argument calls (see UringLib on jnr-ffi's sixth argument;
    // jffi's invokeN6 passes all six, as UringBindingTest shows).
    private static final Invoker INVOKER = Invoker.getInstance();
    private static final long SYSCALL = com.kenai.jffi.Library.getDefault().getSymbolAddress("syscall");
    private static final CallContext SYSCALL6 = CallContext.getCallContext(Type.SINT64,
            new Type[] {Type.SINT64, Type.SINT64, Type.SINT64, Type.SINT64, Type.SINT64, Type.SINT64},
            CallingConvention.DEFAULT, true);

    /** A six-argument C call through jffi (for the binding's test: libc's mmap at an offset). */
    static long call6(String symbol, long a1, long a2, long a3, long a4, long a5, long a6) {
        long fn = com.kenai.jffi.Library.getDefault().getSymbolAddress(symbol);
        return INVOKER.invokeN6(SYSCALL6, fn, a1, a2, a3, a4, a5, a6);
    }

    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

    final int fd;
    final int features;
    final int setupFlags;
    final int sqEntries;
    final int cqEntries;
    private long ringAddress;
    private long ringSize;
    private long sqesAddress;
    private long sqesSize;
    private ByteBuffer ring;
    private ByteBuffer sqes;
    private final int sqHead;
    private final int sqTail;
    private final int sqFlags;
    private int sqMask;
    private final int cqHead;
    private final int cqTail;
    private int cqMask;
    private final int cqes;
    private int sqTailLocal;
    private int sqHeadSeen;
    private int cqHeadLocal;
    private NativeBuffer timeoutSpec; // the __kernel_timespec of the wait's IORING_OP_TIMEOUT

    /**
     * Sets up a ring, or throws naming the failed call.
     *
     * @param entries   SQ entries (the kernel rounds up to a power of 2; CLAMP caps it)
     * @param cqEntries CQ entries, at least entries
     * @param flags     extra setup flags (COOP_TASKRUN...), beside CQSIZE and CLAMP
     */
    Ring(int entries, int cqEntries, int flags) throws IOException {
        NativeBuffer params = NativeBuffer.allocate(PARAMS_SIZE);
        int ringFd;
        try {
            params.putInt(4, cqEntries);
            params.putInt(8, flags | SETUP_CQSIZE | SETUP_CLAMP);
            ringFd = (int) check(LIB.syscall(SYS_IO_URING_SETUP, entries, params.address(), 0, 0, 0, 0),
                    "io_uring_setup(entries=" + entries + ", flags=0x" + Integer.toHexString(flags) + ")");
            this.fd = ringFd;
            this.sqEntries = params.getInt(0);
            this.cqEntries = params.getInt(4);
            this.setupFlags = params.getInt(8);
            this.features = params.getInt(20);
            sqHead = params.getInt(40);
            sqTail = params.getInt(44);
            sqFlags = params.getInt(56);
            int sqMaskAt = params.getInt(48); // the sq_off and cq_off fields are offsets into the mapping
            int sqArray = params.getInt(64);
            cqHead = params.getInt(80);
            cqTail = params.getInt(84);
            int cqMaskAt = params.getInt(88);
            cqes = params.getInt(100);
            try {
                String missing = missingFeature(features);
                if (missing != null) {
                    throw new IOException("io_uring here lacks " + missing);
                }
                ringSize = Math.max(sqArray + 4L * sqEntries, cqes + (long) CQE_SIZE * this.cqEntries);
                ringAddress = map(ringSize, 0);
                ring = MemoryIO.getInstance().newDirectByteBuffer(ringAddress, (int) ringSize).order(ByteOrder.nativeOrder());
                sqesSize = (long) SQE_SIZE * sqEntries;
                sqesAddress = map(sqesSize, IORING_OFF_SQES);
                sqes = MemoryIO.getInstance().newDirectByteBuffer(sqesAddress, (int) sqesSize).order(ByteOrder.nativeOrder());
                // The SQ array maps ring slots to SQEs: the identity, once (as liburing does).
                for (int i = 0; i < sqEntries; i++) {
                    ring.putInt(sqArray + 4 * i, i);
                }
                sqMask = ring.getInt(sqMaskAt);
                cqMask = ring.getInt(cqMaskAt);
                sqTailLocal = ring.getInt(sqTail);
                sqHeadSeen = ring.getInt(sqHead);
                cqHeadLocal = ring.getInt(cqHead);
                timeoutSpec = NativeBuffer.allocate(TIMESPEC_SIZE);
            } catch (IOException | RuntimeException | Error e) {
                close();
                throw e;
            }
        } finally {
            params.free();
        }
    }

    /** @return the first feature this backend needs that {@code features} lacks, with its kernel, or null */
    static String missingFeature(int features) {
        if ((features & FEAT_SINGLE_MMAP) == 0) {
            return "IORING_FEAT_SINGLE_MMAP (Linux 5.4)";
        }
        if ((features & FEAT_NODROP) == 0) {
            return "IORING_FEAT_NODROP (Linux 5.5)";
        }
        if ((features & FEAT_RSRC_TAGS) == 0) {
            // Multishot polls (IORING_POLL_ADD_MULTI) have no feature bit of their own: they came in 5.13, with
            // IORING_FEAT_RSRC_TAGS.
            return "multishot polls (Linux 5.13; IORING_FEAT_RSRC_TAGS, of the same release, is missing), which "
                    + "the wake-up and EDGE keys need";
        }
        return null;
    }

    private long map(long size, long offset) throws NativeIOException {
        long a = LIB.syscall(SYS_MMAP, 0, size, PROT_READ_WRITE, MAP_SHARED_POPULATE, fd, offset);
        if (a == -1) {
            check(-1, "mmap(io_uring fd=" + fd + ", offset=0x" + Long.toHexString(offset) + ", length=" + size + ")");
        }
        return a;
    }

    /** @return the byte offset in {@link #sqes()} of a free SQE, or -1 if the SQ is full */
    int nextSqe() {
        if (sqTailLocal - sqHeadSeen >= sqEntries) {
            // The kernel's SQ head, read only when the last one seen says full: it only grows.
            sqHeadSeen = (int) INT.getAcquire(ring, sqHead);
            if (sqTailLocal - sqHeadSeen >= sqEntries) {
                return -1;
            }
        }
        int at = (sqTailLocal & sqMask) * SQE_SIZE;
        sqTailLocal++;
        return at;
    }

    /**
     * Writes a whole SQE at {@code at}, every field this backend does not name set to 0 (so a slot's last
     * use leaves nothing behind, and nothing is written twice).
     *
     * @param opFlags the opcode's own flags word at offset 28: poll32_events (whose half-words a big-endian
     *                kernel swaps: this backend is for little-endian platforms), timeout_flags
     */
    private void put(int at, byte opcode, byte flags, int fd, long off, long addr, int len, int opFlags, long userData) {
        sqes.put(at, opcode);
        sqes.put(at + 1, flags);
        sqes.putShort(at + 2, (short) 0);  // ioprio
        sqes.putInt(at + 4, fd);
        sqes.putLong(at + 8, off);
        sqes.putLong(at + 16, addr);
        sqes.putInt(at + 24, len);
        sqes.putInt(at + 28, opFlags);
        sqes.putLong(at + 32, userData);
        sqes.putLong(at + 40, 0);          // buf_index, personality, splice_fd_in
        sqes.putLong(at + 48, 0);          // addr3
        sqes.putLong(at + 56, 0);
    }

    /** Writes a POLL_ADD (or a multishot one) for {@code fd} at {@code at}. */
    void pollAdd(int at, int pollFd, int pollEvents, boolean multishot, long userData) {
        // len: the poll flags
        put(at, OP_POLL_ADD, (byte) 0, pollFd, 0, 0, multishot ? POLL_ADD_MULTI : 0, pollEvents, userData);
    }

    /** Writes a POLL_REMOVE of the poll whose user_data is {@code target} at {@code at}. */
    void pollRemove(int at, long target, long userData) {
        // Only a failure (ENOENT: it had completed) posts a CQE. addr: the user_data of the request to remove.
        byte flags = (features & FEAT_CQE_SKIP) != 0 ? IOSQE_CQE_SKIP_SUCCESS : 0;
        put(at, OP_POLL_REMOVE, flags, -1, 0, target, 0, 0, userData);
    }

    /**
     * Writes at {@code at} the IORING_OP_TIMEOUT that bounds a wait: relative, {@code nanos} long, with a
     * completion count ({@code off}) of 1. Its CQE comes when one other completion has been posted after
     * its submission (res 0), or when the time is up (-ETIME); so it ends with the wait it bounds, and the
     * wait's own io_uring_enter stays a six-argument call (no IORING_ENTER_EXT_ARG, whose seven arguments
     * of syscall(2) jffi cannot pass without allocating). Kernel facts (io_uring/timeout.c): the prep copies
     * the timespec from {@code addr} at submission (get_timespec64), so one buffer serves every wait (but holds one value per submit); the
     * count's target is the CQ tail at submission plus {@code off}, less the timeouts' own CQEs
     * ({@code cq_timeouts}, which io_flush_timeouts subtracts), so one timeout never completes another;
     * {@code len} must be 1 (EINVAL otherwise), as liburing's io_uring_prep_timeout sets it.
     */
    void timeout(int at, long nanos, long userData) {
        timeoutSpec.putLong(0, nanos / 1_000_000_000);
        timeoutSpec.putLong(8, nanos % 1_000_000_000);
        // off: the completion count; addr: the timespec; len: one timespec; timeout_flags 0: relative,
        // CLOCK_MONOTONIC.
        put(at, OP_TIMEOUT, (byte) 0, -1, 1, timeoutSpec.address(), 1, 0, userData);
    }

    /** @return the SQE array, for a test that writes a field the selector never sets */
    ByteBuffer sqes() {
        return sqes;
    }

    /** Makes the SQEs written since the last call visible to the kernel: store-release of the SQ tail. */
    void publish() {
        INT.setRelease(ring, sqTail, sqTailLocal);
    }

    /** @return SQEs published and not yet consumed by the kernel */
    int pending() {
        return sqTailLocal - (int) INT.getAcquire(ring, sqHead);
    }

    /**
     * @return whether the kernel holds completions it has not posted: IORING_SQ_TASKRUN (task work pending, as
     *         flagged with IORING_SETUP_TASKRUN_FLAG) or IORING_SQ_CQ_OVERFLOW (CQEs kept aside while the CQ
     *         was full); an enter with GETEVENTS posts them, as liburing's cq_ring_needs_flush does
     */
    boolean unposted() {
        return ((int) INT.getAcquire(ring, sqFlags) & (SQ_TASKRUN | SQ_CQ_OVERFLOW)) != 0;
    }

    /** @return CQEs posted and not yet consumed: load-acquire of the CQ tail */
    int ready() {
        return (int) INT.getAcquire(ring, cqTail) - cqHeadLocal;
    }

    long userData(int i) {
        return ring.getLong(cqeAt(i));
    }

    int res(int i) {
        return ring.getInt(cqeAt(i) + 8);
    }

    int cqeFlags(int i) {
        return ring.getInt(cqeAt(i) + 12);
    }

    private int cqeAt(int i) {
        return cqes + ((cqHeadLocal + i) & cqMask) * CQE_SIZE;
    }

    /** Consumes {@code n} CQEs: store-release of the CQ head, after our reads of them. */
    void consume(int n) {
        cqHeadLocal += n;
        INT.setRelease(ring, cqHead, cqHeadLocal);
    }

    /**
     * Submits what is published and, if {@code wait}, waits for a completion; a wait with a timeout has its
     * IORING_OP_TIMEOUT ({@link #timeout}) among what is submitted.
     *
     * @return io_uring_enter's result: the count submitted, or -errno
     */
    long enter(boolean wait) {
        // sig NULL, and the kernel ignores the size after it, so six arguments of syscall(2) do, through jffi's
        // allocation-free invokeN6 (a select allocates nothing). GETEVENTS with min_complete 0 flushes
        // overflowed CQEs and runs pending completions without waiting.
        long rc = INVOKER.invokeN6(SYSCALL6, SYSCALL, SYS_IO_URING_ENTER, fd, pending(), wait ? 1 : 0,
                ENTER_GETEVENTS, 0);
        return rc < 0 ? -LastError.getLastError(RUNTIME) : rc;
    }

    /**
     * Enables a ring set up with IORING_SETUP_R_DISABLED: io_uring_register(IORING_REGISTER_ENABLE_RINGS).
     * With IORING_SETUP_SINGLE_ISSUER the calling thread becomes the ring's one submitter
     * (io_uring/register.c, io_register_enable_rings: the submitter task is the one that enables it).
     *
     * @throws NativeIOException if the kernel refuses (EBADFD: the ring was not disabled; EEXIST: a
     *                           single-issuer ring already enabled by another thread, whose io_uring_register
     *                           calls it refuses as it does their io_uring_enter)
     */
    void enable() throws NativeIOException {
        check(LIB.syscall(SYS_IO_URING_REGISTER, fd, REGISTER_ENABLE_RINGS, 0, 0, 0, 0),
                "io_uring_register(ring=" + fd + ", IORING_REGISTER_ENABLE_RINGS)");
    }

    /** Submits what is published without waiting; throws if the kernel refuses. */
    void submit() throws NativeIOException {
        long rc = enter(false);
        if (rc < 0 && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN) {
            throw new NativeIOException("io_uring_enter(ring=" + fd + ", submit)", (int) -rc, null);
        }
    }

    /** Unmaps the rings and closes the ring's descriptor, which cancels every request still in flight. */
    void close() {
        if (sqesAddress != 0) {
            LIB.munmap(sqesAddress, sqesSize);
            sqesAddress = 0;
        }
        if (ringAddress != 0) {
            LIB.munmap(ringAddress, ringSize);
            ringAddress = 0;
        }
        ring = null;
        sqes = null;
        if (timeoutSpec != null) {
            timeoutSpec.free();
            timeoutSpec = null;
        }
        Kernel.closeQuietly(fd);
    }

    static long check(long rc, String call) throws NativeIOException {
        return Kernel.check(rc, call);
    }
}
