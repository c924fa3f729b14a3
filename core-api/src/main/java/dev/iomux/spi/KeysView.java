package dev.iomux.spi;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.iomux.SelectorKey;

/** {@link dev.iomux.Selector#keys()}: a live, read-only view; iteration works on a snapshot. */
final class KeysView extends AbstractMap<Integer, SelectorKey> {
    private final AbstractSelector selector;

    KeysView(AbstractSelector selector) {
        this.selector = selector;
    }

    @Override
    public SelectorKey get(Object fd) {
        return fd instanceof Integer ? selector.key((Integer) fd) : null;
    }

    @Override
    public boolean containsKey(Object fd) {
        return get(fd) != null;
    }

    @Override
    public int size() {
        return selector.keyCount();
    }

    @Override
    public Set<Entry<Integer, SelectorKey>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<Integer, SelectorKey>> iterator() {
                SelectorKey[] snapshot = selector.keySnapshot();
                List<Entry<Integer, SelectorKey>> entries = new ArrayList<>(snapshot.length);
                for (SelectorKey k : snapshot) {
                    entries.add(Map.entry(k.fd(), k));
                }
                return List.copyOf(entries).iterator();
            }

            @Override
            public int size() {
                return KeysView.this.size();
            }
        };
    }
}
