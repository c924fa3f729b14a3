package dev.iomux.epoll;

import java.io.IOException;

import dev.iomux.Selector;
import dev.iomux.testing.SelectorContract;

/** The selector contract (API, timeout, wake-up and thread rules) on the epoll backend. */
class EpollContractTest extends SelectorContract {
    @Override
    protected Selector open() throws IOException {
        return new EpollSelectorProvider().open();
    }
}
