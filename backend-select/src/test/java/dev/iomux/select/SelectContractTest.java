package dev.iomux.select;

import java.io.IOException;

import dev.iomux.Selector;
import dev.iomux.testing.SelectorContract;

/** The selector contract (API, timeout, wake-up and thread rules) on the select backend. */
class SelectContractTest extends SelectorContract {
    @Override
    protected Selector open() throws IOException {
        return new SelectSelectorProvider().open();
    }
}
