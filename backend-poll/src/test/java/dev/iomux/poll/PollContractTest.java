package dev.iomux.poll;

import java.io.IOException;

import dev.iomux.Selector;
import dev.iomux.testing.SelectorContract;

/** The selector contract (API, timeout, wake-up and thread rules) on the poll backend. */
class PollContractTest extends SelectorContract {
    @Override
    protected Selector open() throws IOException {
        return new PollSelectorProvider().open();
    }
}
