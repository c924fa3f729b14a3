/**
 * Raw descriptors at the level of the system calls: sockets (TCP over IPv4 and IPv6, Unix stream),
 * pipes, eventfds, files, and the descriptors of channels made elsewhere.
 *
 * <p>They follow POSIX rather than {@code java.nio}: a read returns 0 at end of stream and
 * {@link dev.iomux.io.Descriptors#WOULD_BLOCK} when it would block; every descriptor is close-on-exec;
 * failures throw {@link dev.iomux.NativeIOException} with the errno.
 */
package dev.iomux.io;
