/**
 * iomux: select(2), poll(2) and epoll(7) behind one selector API modelled on Python's {@code selectors}.
 *
 * <h2>Using it</h2>
 * {@link dev.iomux.Selectors#open()} opens the best available backend; {@link dev.iomux.Selector} is the
 * whole contract (registrations, readiness, timeouts, threads, errors); {@link dev.iomux.Events} holds the
 * event bits. Descriptors come from {@link dev.iomux.io.Sockets}, {@link dev.iomux.io.Descriptors} or
 * {@link dev.iomux.io.ChannelDescriptors}.
 *
 * <h2>Writing a backend</h2>
 * See {@link dev.iomux.spi}: a backend is a {@link dev.iomux.SelectorProvider} and a selector built on
 * {@link dev.iomux.spi.AbstractSelector}, written against the API and that package only.
 */
package dev.iomux;
