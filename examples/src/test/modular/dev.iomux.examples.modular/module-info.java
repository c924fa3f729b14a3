/**
 * A program on the module path that uses iomux as a module-path user would: it requires one backend,
 * whose module requires dev.iomux transitively, and finds the others through the service binding of
 * dev.iomux's {@code uses dev.iomux.SelectorProvider}. ModulePathTest compiles and runs it.
 */
module dev.iomux.examples.modular {
    requires dev.iomux.epoll;
}
