package dev.iomux;

/**
 * One entry of a select's result: a ready key with the union of its ready events (rule
 * API-SELECT-RESULT: each key at most once per select).
 *
 * @param key    the ready key
 * @param events the ready directions, within the key's interest, and flags; see {@link Events}
 */
public record Ready(SelectorKey key, int events) {
    /** @return whether {@link Events#READ} is ready */
    public boolean isReadable() {
        return (events & Events.READ) != 0;
    }

    /** @return whether {@link Events#WRITE} is ready */
    public boolean isWritable() {
        return (events & Events.WRITE) != 0;
    }

    /** @return the key's descriptor */
    public int fd() {
        return key.fd();
    }

    /** @return the key's attachment */
    public Object attachment() {
        return key.attachment();
    }

    @Override
    public String toString() {
        return "Ready[fd=" + key.fd() + ", events=" + Events.toString(events) + "]";
    }
}
