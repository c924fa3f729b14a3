package dev.iomux.bench.jmh;

import java.io.IOException;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.TearDown;

import dev.iomux.Selector;
import dev.iomux.bench.Scaling;

/**
 * What the JMH benchmarks share: per trial, either an iomux selector with its socketpairs or the JDK's
 * own selector with its channel pairs, and closing whichever was opened.
 */
abstract class BackendState {
    Scaling.Pairs pairs;
    Selector selector;
    java.nio.channels.Selector nio;
    NioPairs nioPairs;

    /** Closes everything. */
    @TearDown(Level.Trial)
    public void close() {
        if (selector != null) {
            selector.close();
        }
        if (pairs != null) {
            pairs.close();
        }
        if (nio != null) {
            try {
                nio.close();
            } catch (IOException ignored) {
                // the fork ends
            }
            nioPairs.close();
        }
    }
}
