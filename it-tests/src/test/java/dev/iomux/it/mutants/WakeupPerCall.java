package dev.iomux.it.mutants;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.iomux.Capabilities;
import dev.iomux.Ready;
import dev.iomux.ReadyHandler;
import dev.iomux.Selector;
import dev.iomux.SelectorKey;

/**
 * {@link Mutant#UNCOALESCED_WAKEUPS}: a selector whose wake-ups behave as one byte written per
 * {@link #wakeup()} and one byte read per select, as a port that writes its wake-up pipe without a
 * pending flag does. The base coalesces wake-ups in code a port cannot change, so the bug is planted
 * around it: every select re-signals while wake-ups are left unread. Everything else is the port's.
 */
final class WakeupPerCall implements Selector {
    private final Selector port;
    private final AtomicInteger unread = new AtomicInteger();

    WakeupPerCall(Selector port) {
        this.port = port;
    }

    @Override
    public void wakeup() {
        unread.incrementAndGet();
        port.wakeup();
    }

    /** One byte read by the select that just returned; the rest still make the pipe readable. */
    private <T> T readOne(T result) {
        if (unread.getAndUpdate(n -> Math.max(0, n - 1)) > 1) {
            port.wakeup();
        }
        return result;
    }

    @Override
    public List<Ready> select() throws IOException {
        return readOne(port.select());
    }

    @Override
    public List<Ready> select(Duration timeout) throws IOException {
        return readOne(port.select(timeout));
    }

    @Override
    public List<Ready> selectNow() throws IOException {
        return readOne(port.selectNow());
    }

    @Override
    public int select(ReadyHandler handler) throws IOException {
        return readOne(port.select(handler));
    }

    @Override
    public int select(long timeout, TimeUnit unit, ReadyHandler handler) throws IOException {
        return readOne(port.select(timeout, unit, handler));
    }

    @Override
    public int selectNow(ReadyHandler handler) throws IOException {
        return readOne(port.selectNow(handler));
    }

    @Override
    public SelectorKey register(int fd, int events, Object attachment) throws IOException {
        return port.register(fd, events, attachment);
    }

    @Override
    public SelectorKey modify(int fd, int events, Object attachment) throws IOException {
        return port.modify(fd, events, attachment);
    }

    @Override
    public SelectorKey modify(int fd, int events) throws IOException {
        return port.modify(fd, events);
    }

    @Override
    public SelectorKey unregister(int fd) {
        return port.unregister(fd);
    }

    @Override
    public SelectorKey key(int fd) {
        return port.key(fd);
    }

    @Override
    public Map<Integer, SelectorKey> keys() {
        return port.keys();
    }

    @Override
    public void close() {
        port.close();
    }

    @Override
    public boolean isOpen() {
        return port.isOpen();
    }

    @Override
    public Capabilities capabilities() {
        return port.capabilities();
    }

    @Override
    public String backend() {
        return port.backend();
    }
}
