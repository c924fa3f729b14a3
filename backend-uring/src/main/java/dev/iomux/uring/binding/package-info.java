/**
 * The backend's own binding of the calls core-api's libc binding does not make. Not an API: exported only
 * because jnr-ffi's generated class must see the interface.
 */
package dev.iomux.uring.binding;
