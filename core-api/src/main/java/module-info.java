/**
 * iomux: the {@link dev.iomux.Selector} API, native sockets and pipes ({@code dev.iomux.io}) and the
 * backend SPI. Backends are separate modules that provide {@link dev.iomux.SelectorProvider}.
 *
 * <p>On JDK 22 and later a program on the module path runs with
 * {@code --enable-native-access=dev.iomux,org.jnrproject.jffi}: this module links {@code java.lang.foreign}
 * downcalls, and jffi (an automatic module) calls {@code System.load}, both restricted methods (JEP 472).
 */
// jnr's jars have no module-info: nothing to do about it here.
@SuppressWarnings("requires-automatic")
module dev.iomux {
    exports dev.iomux;
    exports dev.iomux.io;
    exports dev.iomux.spi;
    // Not an API, yet exported to all: jnr-ffi defines the class that implements LibC in a class loader of
    // its own, in that loader's unnamed module, which a qualified export cannot name (loading libc fails
    // with IllegalAccessError: superinterface check failed). LibC is alone in this package for that reason;
    // the rest of dev.iomux.internal is not exported.
    exports dev.iomux.internal.binding;

    uses dev.iomux.SelectorProvider;

    // jnr-ffi's jars are automatic modules (no module-info), named by their Automatic-Module-Name.
    requires org.jnrproject.ffi;       // the libc binding (LibraryLoader, Platform, LastError)
    requires org.jnrproject.jffi;      // MemoryIO: NativeBuffer's blocks, direct buffer addresses
    requires org.jnrproject.constants; // Errno, for errno names
    requires org.jnrproject.enxio;     // NativeSelectableChannel: jnr-unixsocket channels' fds
    // jnr-ffi generates its libc stub with ASM, an explicit module. An automatic module declares no
    // dependencies: resolving one brings in every automatic module on the module path but no explicit
    // one, so without this org.objectweb.asm is not resolved and loading libc fails with
    // NoClassDefFoundError: org/objectweb/asm/ClassVisitor.
    requires org.objectweb.asm;
    // sun.misc.Unsafe, looked up reflectively: a direct buffer's address without a JNI call (below JDK 24);
    // jffi's MemoryIO uses it too.
    requires jdk.unsupported;
}
