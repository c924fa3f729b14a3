/**
 * The io_uring backend of iomux: provides {@link dev.iomux.SelectorProvider}, which
 * {@code dev.iomux.Selectors} finds through {@link java.util.ServiceLoader} but never opens by default.
 */
// jnr's jars have no module-info: nothing to do about it here.
@SuppressWarnings("requires-automatic")
module dev.iomux.uring {
    // Its public provider extends dev.iomux.spi.AbstractSelectorProvider: a module that requires this one
    // reads module dev.iomux too.
    requires transitive dev.iomux;
    requires org.jnrproject.ffi;  // the binding of io_uring's system calls, mmap and munmap
    requires org.jnrproject.jffi; // MemoryIO: a direct ByteBuffer over the mapped rings

    exports dev.iomux.uring;
    // Not an API: jnr-ffi defines the class that implements UringLib in an unnamed module of its own,
    // which must see the interface (as dev.iomux exports dev.iomux.internal.binding for its LibC).
    exports dev.iomux.uring.binding;

    provides dev.iomux.SelectorProvider with dev.iomux.uring.UringSelectorProvider,
            dev.iomux.uring.UringSingleSelectorProvider;
}
