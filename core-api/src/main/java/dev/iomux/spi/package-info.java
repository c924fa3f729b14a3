/**
 * The service-provider interface: everything a backend needs beyond the {@link dev.iomux.Selector} API,
 * public, documented and meant to stay. The three backends of this project use nothing else.
 *
 * <p>A backend is two classes and a service file:
 * <ol>
 *   <li>a provider extending {@link dev.iomux.spi.AbstractSelectorProvider}: name, rank, declared
 *       {@link dev.iomux.Capabilities}, a real availability probe, and {@code newSelector()};</li>
 *   <li>a selector extending {@link dev.iomux.spi.AbstractSelector}, which declares how its kernel learns
 *       of registrations ({@link dev.iomux.spi.AbstractSelector.Updates}) and fills a few hooks:
 *     <ul>
 *       <li>{@code implUpdate} and {@code implUnregister} (a kernel that holds registrations, like
 *           epoll), or {@code implPrepare} with the {@link dev.iomux.spi.ChangedFds} (sets passed whole to
 *           each wait, like select and poll);</li>
 *       <li>{@code implSelect}: wait, returning a count or {@code INTERRUPTED} on EINTR;</li>
 *       <li>{@code implCollect}: turn the results into {@code collect(registration, events)} calls;</li>
 *       <li>{@code implClose}: release descriptors and native memory;</li>
 *     </ul>
 *     the base does everything else: argument checks, the descriptor table, rollback, timeouts and EINTR
 *     retries, wake-up and close, one-shot emulation, masking, merging, parking and delivery;</li>
 *   <li>{@code META-INF/services/dev.iomux.SelectorProvider} naming the provider class (and
 *       {@code provides} in its module-info).</li>
 * </ol>
 *
 * <p>The tools: {@link dev.iomux.spi.Registration}, the handle every hook gets; {@link dev.iomux.spi.Kernel},
 * the system calls with their errno handling; {@link dev.iomux.spi.PollBits}, the poll and epoll bits;
 * {@link dev.iomux.spi.NativeBuffer}, the accounted allocator for native memory (the conformance kit's
 * leak check sees a port's own arrays); {@link dev.iomux.spi.Waker}, the wake-up pipe. PORTING.md walks
 * through a port.
 */
package dev.iomux.spi;
