package consumer;

import jnr.ffi.LibraryLoader;

/** A program that calls libc through jnr-ffi itself, then runs the echo program on iomux. */
public final class JnrEcho {
    private JnrEcho() {
    }

    /** The one libc function this program binds itself. */
    public interface LibC {
        int getpid();
    }

    public static void main(String[] args) throws Exception {
        String jffi = com.kenai.jffi.MemoryIO.class.getProtectionDomain().getCodeSource().getLocation().getPath();
        int pid = LibraryLoader.create(LibC.class).load("c").getpid();
        Echo.check(pid == ProcessHandle.current().pid(), "jnr-ffi's own getpid() is " + pid + ", with "
                + jffi.substring(jffi.lastIndexOf('/') + 1));
        Echo.main(args);
    }
}
