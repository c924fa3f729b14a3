/**
 * Internal: the libc binding ({@link dev.iomux.internal.Native}, over
 * {@link dev.iomux.internal.binding.LibC}), Linux constants, and the I/O helpers of {@code dev.iomux.io}.
 * Not exported from the module and not an API: backends use {@link dev.iomux.spi}.
 */
package dev.iomux.internal;
