/**
 * The poll backend of iomux: provides {@link dev.iomux.SelectorProvider}, which
 * {@code dev.iomux.Selectors} finds through {@link java.util.ServiceLoader}.
 */
module dev.iomux.poll {
    // Its public provider extends dev.iomux.spi.AbstractSelectorProvider: a module that requires this one
    // reads module dev.iomux too.
    requires transitive dev.iomux;

    exports dev.iomux.poll;

    provides dev.iomux.SelectorProvider with dev.iomux.poll.PollSelectorProvider;
}
