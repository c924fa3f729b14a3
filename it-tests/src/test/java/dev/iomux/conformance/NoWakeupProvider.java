package dev.iomux.conformance;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.iomux.Capabilities;
import dev.iomux.Ready;
import dev.iomux.ReadyHandler;
import dev.iomux.Selector;
import dev.iomux.SelectorKey;
import dev.iomux.SelectorProvider;
import dev.iomux.poll.PollSelectorProvider;

/**
 * A broken port, for the kit's own tests of what a porter reads when a rule fails: poll whose
 * {@link Selector#wakeup()} does nothing (a backend that forgot its wake-up). Everything else is the real
 * poll backend on the real kernel; close still wakes a blocked select.
 */
final class NoWakeupProvider implements SelectorProvider {
    private final SelectorProvider poll = new PollSelectorProvider();

    @Override
    public String name() {
        return "nowake";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Capabilities capabilities() {
        return poll.capabilities();
    }

    @Override
    public Throwable unavailabilityCause() {
        return poll.unavailabilityCause();
    }

    @Override
    public Selector open() throws IOException {
        Selector s = poll.open();
        return new Selector() {
            @Override
            public SelectorKey register(int fd, int events, Object attachment) throws IOException {
                return s.register(fd, events, attachment);
            }

            @Override
            public SelectorKey modify(int fd, int events, Object attachment) throws IOException {
                return s.modify(fd, events, attachment);
            }

            @Override
            public SelectorKey modify(int fd, int events) throws IOException {
                return s.modify(fd, events);
            }

            @Override
            public SelectorKey unregister(int fd) {
                return s.unregister(fd);
            }

            @Override
            public List<Ready> select() throws IOException {
                return s.select();
            }

            @Override
            public List<Ready> select(Duration timeout) throws IOException {
                return s.select(timeout);
            }

            @Override
            public List<Ready> selectNow() throws IOException {
                return s.selectNow();
            }

            @Override
            public int select(ReadyHandler handler) throws IOException {
                return s.select(handler);
            }

            @Override
            public int select(long timeout, TimeUnit unit, ReadyHandler handler) throws IOException {
                return s.select(timeout, unit, handler);
            }

            @Override
            public int selectNow(ReadyHandler handler) throws IOException {
                return s.selectNow(handler);
            }

            @Override
            public SelectorKey key(int fd) {
                return s.key(fd);
            }

            @Override
            public Map<Integer, SelectorKey> keys() {
                return s.keys();
            }

            @Override
            public void wakeup() {
                // The planted bug: the wake-up is lost.
            }

            @Override
            public void close() {
                s.close();
            }

            @Override
            public boolean isOpen() {
                return s.isOpen();
            }

            @Override
            public Capabilities capabilities() {
                return s.capabilities();
            }

            @Override
            public String backend() {
                return "nowake";
            }
        };
    }
}
