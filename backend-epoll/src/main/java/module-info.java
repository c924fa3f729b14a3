/**
 * The epoll backend of iomux: provides {@link dev.iomux.SelectorProvider}, which
 * {@code dev.iomux.Selectors} finds through {@link java.util.ServiceLoader}.
 */
@SuppressWarnings("requires-automatic") // jnr-ffi has no module-info
module dev.iomux.epoll {
    // Its public provider extends dev.iomux's AbstractSelectorProvider: a module that requires this one
    // reads dev.iomux too.
    requires transitive dev.iomux;
    // Platform: the CPU, which decides the layout of struct epoll_event (packed on x86-64 only).
    requires org.jnrproject.ffi;

    exports dev.iomux.epoll;

    provides dev.iomux.SelectorProvider with dev.iomux.epoll.EpollSelectorProvider;
}
