/**
 * iomux: select(2), poll(2) and epoll(7) behind one selector API modelled on Python's {@code selectors}.
 *
 * <h2>Using it</h2>
 * {@link dev.iomux.Selectors#open()} opens the best available backend; {@link dev.iomux.Selector} is the
 * whole contract (registrations, readiness, timeouts, threads, errors); {@link dev.iomux.Events} holds the
 * event bits. Descriptors come from {@link dev.iomux.io.Sockets}, {@link dev.iomux.io.Descriptors} or
 * {@link dev.iomux.io.ChannelDescriptors}.
 *
 * <h2>Writing a backend (the SPI)</h2>
 * A backend is two classes and a service file:
 * <ol>
 *   <li>a {@link dev.iomux.SelectorProvider}: name, rank, declared {@link dev.iomux.Capabilities}, a real
 *       availability probe, and {@code open()};</li>
 *   <li>a selector extending {@link dev.iomux.AbstractSelector}, which fills eight hooks:
 *     <ul>
 *       <li>{@code implRegister}, {@code implModify}, {@code implUnregister}: apply a registration change,
 *           to the kernel at once (epoll) or recorded for the next wait (select, poll);</li>
 *       <li>{@code implDisarm}: stop reporting a fired one-shot or parked key until modify;</li>
 *       <li>{@code implPrepare}: bring the kernel's view up to date before a wait (selecting thread);</li>
 *       <li>{@code implSelect}: wait, returning a count or {@code INTERRUPTED} on EINTR;</li>
 *       <li>{@code implCollect}: turn the results into {@code collect(key, events)} calls;</li>
 *       <li>{@code implClose}: release descriptors and native memory;</li>
 *     </ul>
 *     the base does everything else: argument checks, the descriptor table, rollback, timeouts and EINTR
 *     retries, wake-up, close, one-shot emulation, masking, parking and delivery;</li>
 *   <li>{@code META-INF/services/dev.iomux.SelectorProvider} naming the provider class.</li>
 * </ol>
 * The three backends of this project are each a few hundred lines on that base and show the way.
 */
package dev.iomux;
