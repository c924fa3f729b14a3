package dev.iomux;

import java.io.IOException;

/**
 * Receives the ready keys of a select one at a time: the allocation-free way to select
 * ({@link Selector#select(ReadyHandler)}).
 *
 * <p>The handler runs on the selecting thread. It may register, modify and unregister keys and close the
 * selector; a key unregistered by an earlier call of the same batch is not delivered (rule
 * REPORT-AFTER-UNREGISTER). It must not select. If it throws, the exception leaves the select and the
 * keys not yet delivered are delivered by the next select, so that no edge-triggered or one-shot event
 * is lost.
 */
@FunctionalInterface
public interface ReadyHandler {
    /**
     * Handles one ready key.
     *
     * @param key    the key, as registered at the time of delivery
     * @param events the ready directions (within the key's interest) and flags, see {@link Events}
     * @throws IOException passed on to the caller of select
     */
    void ready(SelectorKey key, int events) throws IOException;
}
