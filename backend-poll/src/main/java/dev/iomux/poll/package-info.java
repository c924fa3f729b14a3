/**
 * The poll backend of iomux. Add this module as a dependency and open it with
 * {@code dev.iomux.Selectors.open("poll")}, or let {@code Selectors.open()} pick the best available backend.
 */
package dev.iomux.poll;
