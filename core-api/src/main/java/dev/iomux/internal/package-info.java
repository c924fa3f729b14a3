/**
 * Internal: the libc binding ({@link dev.iomux.internal.Native}, {@link dev.iomux.internal.LibC}), Linux
 * constants, owned native memory and the descriptor table. Public only because the backends live in
 * other modules; not an API, and it may change in any release.
 */
package dev.iomux.internal;
