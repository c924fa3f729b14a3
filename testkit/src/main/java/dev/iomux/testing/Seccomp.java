package dev.iomux.testing;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.iomux.spi.NativeBuffer;
import jnr.ffi.LibraryLoader;
import jnr.ffi.LibraryOption;
import jnr.ffi.Platform;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.SaveError;

/**
 * A real seccomp filter (seccomp(2), SECCOMP_SET_MODE_FILTER) that makes one system call fail with an
 * errno of our choice, installed in a child JVM: the condition a container runtime's default profile
 * creates (Docker's and Podman's answer ENOSYS or EPERM for the calls they block), made by the process
 * itself, so that a test needs neither root nor a container.
 *
 * <p>{@link #run} starts {@code java -cp <this class path> dev.iomux.testing.Seccomp <nr> <errno> <main>
 * <args>}; this class's {@link #main} installs the filter first, before anything else of the JVM's own
 * code could use the call and cache what it saw, and then runs {@code main}. The filter is applied to
 * every thread of the JVM (SECCOMP_FILTER_FLAG_TSYNC) and is inherited by any process it starts; it lasts
 * as long as the child.
 *
 * <p>x86-64 only ({@link #supported()}): the filter checks the audit architecture and the seccomp call's
 * number is the architecture's.
 */
public final class Seccomp {
    // include/uapi/linux/prctl.h, seccomp.h, audit.h, filter.h, bpf_common.h; arch/x86/entry/syscalls/syscall_64.tbl
    private static final int PR_SET_NO_NEW_PRIVS = 38;
    private static final long SYS_SECCOMP_X86_64 = 317;
    private static final int SECCOMP_SET_MODE_FILTER = 1;
    private static final int SECCOMP_FILTER_FLAG_TSYNC = 1;
    private static final int SECCOMP_RET_ALLOW = 0x7fff0000;
    private static final int SECCOMP_RET_ERRNO = 0x00050000;
    private static final int AUDIT_ARCH_X86_64 = 0xc000003e;
    private static final int BPF_LD_W_ABS = 0x00 | 0x00 | 0x20;
    private static final int BPF_JMP_JEQ_K = 0x05 | 0x10 | 0x00;
    private static final int BPF_RET_K = 0x06 | 0x00;
    // struct seccomp_data: int nr at 0, __u32 arch at 4
    private static final int DATA_NR = 0;
    private static final int DATA_ARCH = 4;

    /** How long the child may take: generous, for a loaded 2-core machine. */
    private static final long WAIT_SECONDS = 60;

    private Seccomp() {
    }

    /** @return whether a filter can be installed here: Linux on x86-64 */
    public static boolean supported() {
        Platform p = Platform.getNativePlatform();
        return p.getOS() == Platform.OS.LINUX && p.getCPU() == Platform.CPU.X86_64;
    }

    /**
     * What a child JVM printed, standard output and standard error together, and how it exited.
     *
     * @param exitCode its exit status
     * @param output   what it printed
     */
    public record Result(int exitCode, String output) {
    }

    /**
     * Runs {@code main} in a child JVM of this JDK, with this class path, under a filter that makes the
     * system call {@code syscall} fail with {@code errno} and allows every other call.
     *
     * @param syscall the call's number on x86-64 (io_uring_setup: 425)
     * @param errno   the error it fails with (ENOSYS 38, EPERM 1)
     * @param main    the class whose {@code main} runs under the filter
     * @param args    its arguments
     * @return what the child printed and its exit status
     * @throws IOException          if the JVM cannot be started
     * @throws InterruptedException if interrupted while waiting
     * @throws AssertionError       if it does not exit within a minute (it is killed)
     */
    public static Result run(int syscall, int errno, Class<?> main, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Seccomp.class.getName(), Integer.toString(syscall), Integer.toString(errno), main.getName()));
        command.addAll(Arrays.asList(args));
        // A file, not a pipe: nothing of the child stays open in this process, and it never blocks on output.
        Path out = Files.createTempFile("iomux-seccomp", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("the child JVM (" + main.getName() + ") did not exit within "
                        + WAIT_SECONDS + " s; it printed:\n" + Files.readString(out, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /**
     * The child's entry: installs the filter, then runs the main class.
     *
     * @param args the call's number, the errno, the main class, its arguments
     * @throws Exception whatever the main class throws
     */
    public static void main(String[] args) throws Exception {
        int syscall = Integer.parseInt(args[0]);
        int errno = Integer.parseInt(args[1]);
        failWith(syscall, errno);
        System.out.println("seccomp: system call " + syscall + " fails with errno " + errno);
        Method m = Class.forName(args[2]).getMethod("main", String[].class);
        m.setAccessible(true);
        m.invoke(null, (Object) Arrays.copyOfRange(args, 3, args.length));
    }

    /**
     * Installs, in this process, for all its threads and for good, a filter that makes {@code syscall}
     * fail with {@code errno}.
     *
     * @param syscall the call's number on x86-64
     * @param errno   the error (1 to 4095)
     * @throws IllegalStateException if the kernel refuses
     */
    static void failWith(int syscall, int errno) {
        if (!supported()) {
            throw new IllegalStateException("a seccomp filter is installed only on Linux x86-64, not "
                    + Platform.getNativePlatform().getOS() + " " + Platform.getNativePlatform().getCPU());
        }
        if (errno < 1 || errno > 4095) {
            throw new IllegalArgumentException("errno " + errno + ": the filter returns 1 to 4095 (SECCOMP_RET_DATA)");
        }
        // Without CAP_SYS_ADMIN, seccomp(2) installs a filter only once no_new_privs is set (seccomp(2)).
        if (LibC.C.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            throw new IllegalStateException("prctl(PR_SET_NO_NEW_PRIVS) failed: errno " + lastError());
        }
        int[][] program = {
            {BPF_LD_W_ABS, 0, 0, DATA_ARCH},
            {BPF_JMP_JEQ_K, 0, 3, AUDIT_ARCH_X86_64},          // another ABI: allow (to 5)
            {BPF_LD_W_ABS, 0, 0, DATA_NR},
            {BPF_JMP_JEQ_K, 0, 1, syscall},                    // another call: allow (to 5)
            {BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | errno},
            {BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW},
        };
        // struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; }: 8 bytes each
        NativeBuffer filter = NativeBuffer.allocate(program.length * 8);
        // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: the pointer at 8
        NativeBuffer fprog = NativeBuffer.allocate(16);
        try {
            for (int i = 0; i < program.length; i++) {
                filter.putShort(i * 8, (short) program[i][0]);
                filter.putByte(i * 8 + 2, (byte) program[i][1]);
                filter.putByte(i * 8 + 3, (byte) program[i][2]);
                filter.putInt(i * 8 + 4, program[i][3]);
            }
            fprog.putShort(0, (short) program.length);
            fprog.putLong(8, filter.address());
            // TSYNC: every thread of the JVM, not only this one; on failure it returns the id of a thread
            // that could not be synchronized, or -1 and errno (seccomp(2)).
            long rc = LibC.C.syscall(SYS_SECCOMP_X86_64, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC,
                    fprog.address());
            if (rc != 0) {
                throw new IllegalStateException("seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC) "
                        + "returned " + rc + (rc == -1 ? ", errno " + lastError() : " (a thread it could not sync)"));
            }
        } finally {
            // The kernel copied the program (seccomp_prepare_filter): ours can go.
            fprog.free();
            filter.free();
        }
    }

    private static int lastError() {
        return Runtime.getRuntime(LibC.C).getLastError();
    }

    /**
     * prctl(2) and syscall(2), for {@link Seccomp} only. Public only because jnr-ffi implements it in a
     * class loader of its own. Five arguments at most: jnr-ffi passes a sixth as garbage on x86-64
     * (jnr/jnr-ffi#181).
     */
    public interface LibC {
        /** The binding, loaded on first use. */
        LibC C = LibraryLoader.create(LibC.class).option(LibraryOption.IgnoreError, true).load("c");

        /**
         * prctl(2).
         *
         * @param option the operation
         * @param a2     its second argument
         * @param a3     its third argument
         * @param a4     its fourth argument
         * @param a5     its fifth argument
         * @return 0, or -1 with errno set
         */
        @SaveError int prctl(int option, long a2, long a3, long a4, long a5);

        /**
         * syscall(2) with three arguments.
         *
         * @param number the call's number
         * @param a1     its first argument
         * @param a2     its second argument
         * @param a3     its third argument
         * @return what the call returned, -1 with errno set on failure
         */
        @SaveError long syscall(long number, long a1, long a2, long a3);
    }
}
