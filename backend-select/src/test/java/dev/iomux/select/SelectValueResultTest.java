package dev.iomux.select;

import static dev.iomux.Events.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import dev.iomux.Ready;
import dev.iomux.SelectorKey;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fd_set copies behind rule SELECT-VALUE-RESULT (which the kit checks on every backend): select(2)
 * overwrites its sets with the result, so the backend restores them from its masters before every
 * call, over random rounds and for descriptors in different words of the bitmap.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SelectValueResultTest {
    private static final long SEED = 0x5E1EC7L;
    private static final int ROUNDS = 50;

    /** Selects one of three ways, by {@code how}, and returns what was reported. */
    private static List<Ready> selectSomeWay(SelectSelector sel, int how) throws IOException {
        switch (how) {
            case 0:
                return sel.select(Expect.PATIENCE);
            case 1: {
                List<Ready> got = new ArrayList<>();
                int n = sel.select(Expect.PATIENCE.toMillis(), TimeUnit.MILLISECONDS,
                        (key, events) -> got.add(new Ready(key, events)));
                assertThat(n).isEqualTo(got.size());
                return got;
            }
            default:
                return sel.selectNow(); // a pipe write is readable at once
        }
    }

    /** Fifty rounds: one pipe of three made readable, exactly that one reported, then drained. */
    private static void rounds(SelectSelector sel, int[] readEnds, int[] writeEnds, long seed) throws IOException {
        SelectorKey[] keys = new SelectorKey[readEnds.length];
        for (int i = 0; i < readEnds.length; i++) {
            keys[i] = sel.key(readEnds[i]);
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int round = 0; round < ROUNDS; round++) {
            int chosen = random.nextInt(readEnds.length);
            int how = random.nextInt(3);
            Fds.write(writeEnds[chosen], 1 + random.nextInt(100));
            List<Ready> got = selectSomeWay(sel, how);
            assertThat(got).as("seed %d, round %d: only fd %d was written to (select kind %d)", seed, round,
                    readEnds[chosen], how).extracting(Ready::fd).containsExactly(readEnds[chosen]);
            assertThat(got.get(0).events()).isEqualTo(READ);
            assertThat(Fds.drain(readEnds[chosen])).isPositive();
            for (int i = 0; i < readEnds.length; i++) {
                assertThat(sel.key(readEnds[i])).as("no re-registration: the same key object").isSameAs(keys[i]);
            }
        }
    }

    // SELECT-VALUE-RESULT: the kernel cleared the bits of the two idle pipes in every round; they are
    // still watched because prepare copies the masters back.
    @Test
    void threePipesStayWatchedOverFiftyRandomRounds() throws IOException {
        try (Fds fds = new Fds(); SelectSelector sel = SelectTesting.open()) {
            int[] readEnds = new int[3];
            int[] writeEnds = new int[3];
            for (int i = 0; i < 3; i++) {
                int[] p = fds.pipe();
                readEnds[i] = p[0];
                writeEnds[i] = p[1];
                sel.register(p[0], READ, "pipe " + i);
            }
            rounds(sel, readEnds, writeEnds, SEED);
            Expect.nothing(sel);
        }
    }

    // SELECT-VALUE-RESULT across words: read ends at fds 63, 64 and near 1023 (word 0, word 1, word 15).
    @Test
    void descriptorsInDifferentWordsStayWatched() throws IOException {
        try (Fds fds = new Fds(); SelectSelector sel = SelectTesting.open()) {
            int[] wanted = {63, 64, 1023};
            int[] readEnds = new int[3];
            int[] writeEnds = new int[3];
            for (int i = 0; i < 3; i++) {
                int fd = SelectTesting.freeFd(wanted[i], wanted[i] == 1023 ? 1023 : wanted[i]);
                if (fd < 0) {
                    // Stay in the same fd_set word (fd / 64) when the exact number is taken.
                    int word = wanted[i] / 64;
                    fd = SelectTesting.freeFd(word * 64, word * 64 + 63);
                }
                assumeTrue(fd >= 0, "a free descriptor in the fd_set word of " + wanted[i]);
                int[] p = fds.pipe();
                readEnds[i] = SelectTesting.dupTo(fds, p[0], fd);
                writeEnds[i] = p[1];
                fds.close(p[0]);
                sel.register(readEnds[i], READ);
            }
            rounds(sel, readEnds, writeEnds, SEED + 1);

            // The highest fd leaves: nfds shrinks, word 15 is no longer copied or scanned; whatever the
            // kernel left there in earlier results must not be reported.
            Fds.write(writeEnds[2], 1);
            assertThat(sel.selectNow()).extracting(Ready::fd).containsExactly(readEnds[2]);
            sel.unregister(readEnds[2]);
            assertThat(sel.selectNow()).as("fd %d unregistered while readable", readEnds[2]).isEmpty();
            Fds.write(writeEnds[0], 1);
            assertThat(sel.select(Expect.PATIENCE)).extracting(Ready::fd).containsExactly(readEnds[0]);
            Fds.drain(readEnds[0]);
            // Back in, readable: reported again, alone.
            sel.register(readEnds[2], READ);
            assertThat(sel.select(Expect.PATIENCE)).extracting(Ready::fd).containsExactly(readEnds[2]);
            Fds.drain(readEnds[2]);
            Expect.nothing(sel);
        }
    }
}
