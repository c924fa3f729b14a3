/**
 * The io_uring backend of iomux: readiness through IORING_OP_POLL_ADD. Add this module as a dependency and
 * open it with {@code dev.iomux.Selectors.open("uring")}; {@code Selectors.open()} never picks it.
 */
package dev.iomux.uring;
