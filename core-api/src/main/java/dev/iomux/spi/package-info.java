/**
 * The service-provider interface: what a backend needs beyond the {@link dev.iomux.Selector} API,
 * public, documented and meant to stay. {@link dev.iomux.spi.NativeBuffer} is the accounted allocator
 * for a backend's native memory: every block it hands out is counted until freed, so the conformance
 * kit's leak check sees a port's own arrays (a pollfd array never freed fails the kit), not only the
 * library's.
 */
package dev.iomux.spi;
