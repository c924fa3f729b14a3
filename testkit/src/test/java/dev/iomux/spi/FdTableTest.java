package dev.iomux.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link FdTable}: an int-keyed map backed by an array indexed by the descriptor. */
@ExtendWith(LeakCheck.class)
class FdTableTest {

    @Test
    void emptyTable() {
        FdTable<String> t = new FdTable<>();
        assertThat(t.size()).isZero();
        assertThat(t.get(0)).isNull();
        assertThat(t.get(63)).isNull();
        assertThat(t.get(1_000_000)).isNull();
        assertThat(t.remove(5)).isNull();
        assertThat(t.remove(1_000_000)).isNull();
        assertThat(t.size()).isZero();
        assertThat(t.values(new String[0])).isEmpty();
    }

    @Test
    void putGetRemoveAndSize() {
        FdTable<String> t = new FdTable<>();
        assertThat(t.put(3, "three")).isNull();
        assertThat(t.put(0, "zero")).isNull();
        assertThat(t.size()).isEqualTo(2);
        assertThat(t.get(3)).isEqualTo("three");
        assertThat(t.get(0)).isEqualTo("zero");
        assertThat(t.get(1)).isNull();

        assertThat(t.put(3, "THREE")).isEqualTo("three"); // replace: size unchanged
        assertThat(t.size()).isEqualTo(2);
        assertThat(t.get(3)).isEqualTo("THREE");

        assertThat(t.remove(3)).isEqualTo("THREE");
        assertThat(t.remove(3)).isNull();
        assertThat(t.get(3)).isNull();
        assertThat(t.size()).isEqualTo(1);
        assertThat(t.remove(0)).isEqualTo("zero");
        assertThat(t.size()).isZero();
    }

    @ParameterizedTest
    @ValueSource(ints = {63, 64, 65, 127, 128, 1023, 1024, 4097, 65_536, 100_000, 1_048_575})
    void growsToFitLargeDescriptors(int fd) {
        FdTable<Integer> t = new FdTable<>();
        t.put(1, 1);
        t.put(fd, fd);
        assertThat(t.get(fd)).isEqualTo(fd);
        assertThat(t.get(1)).isEqualTo(1); // kept across the growth
        assertThat(t.get(fd - 1)).isNull();
        assertThat(t.get(fd + 1)).isNull();
        assertThat(t.size()).isEqualTo(2);
        assertThat(t.remove(fd)).isEqualTo(fd);
        assertThat(t.size()).isEqualTo(1);
    }

    @Test
    void growsStepByStepThroughManyDescriptors() {
        FdTable<Integer> t = new FdTable<>();
        for (int fd = 0; fd < 5000; fd += 3) {
            t.put(fd, -fd);
        }
        for (int fd = 0; fd < 5000; fd++) {
            assertThat(t.get(fd)).as("fd %d", fd).isEqualTo(fd % 3 == 0 ? Integer.valueOf(-fd) : null);
        }
        assertThat(t.size()).isEqualTo(1667);
    }

    @Test
    void valuesAreInDescriptorOrder() {
        FdTable<String> t = new FdTable<>();
        t.put(100_000, "e");
        t.put(7, "b");
        t.put(0, "a");
        t.put(640, "d");
        t.put(64, "c");
        assertThat(t.values(new String[0])).containsExactly("a", "b", "c", "d", "e");

        // Like Collection.toArray(T[]): a large enough array is used and the slot after the last is nulled.
        String[] big = {"x", "x", "x", "x", "x", "x", "x"};
        String[] out = t.values(big);
        assertThat(out).isSameAs(big).containsExactly("a", "b", "c", "d", "e", null, "x");

        String[] exact = new String[5];
        assertThat(t.values(exact)).isSameAs(exact).containsExactly("a", "b", "c", "d", "e");
    }

    @Test
    void clearEmptiesTheTable() {
        FdTable<String> t = new FdTable<>();
        t.put(2, "two");
        t.put(90_000, "big");
        t.clear();
        assertThat(t.size()).isZero();
        assertThat(t.get(2)).isNull();
        assertThat(t.get(90_000)).isNull();
        assertThat(t.values(new String[0])).isEmpty();
        // Usable again afterwards, including growing.
        t.put(70_000, "again");
        t.put(1, "one");
        assertThat(t.size()).isEqualTo(2);
        assertThat(t.values(new String[0])).containsExactly("one", "again");
    }

    /** Random put/remove/get against a TreeMap; the seed is printed so that a failure can be replayed. */
    @Test
    void behavesLikeATreeMap() {
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        FdTable<Integer> table = new FdTable<>();
        TreeMap<Integer, Integer> model = new TreeMap<>();
        for (int op = 0; op < 10_000; op++) {
            // Mostly small, dense descriptors as the kernel hands out, sometimes a large one.
            int fd = random.nextInt(10) == 0 ? random.nextInt(200_000) : random.nextInt(300);
            String where = "seed " + seed + ", op " + op + ", fd " + fd;
            int choice = random.nextInt(10);
            if (choice < 5) {
                int value = random.nextInt();
                assertThat(table.put(fd, value)).as(where).isEqualTo(model.put(fd, value));
            } else if (choice < 9) {
                assertThat(table.remove(fd)).as(where).isEqualTo(model.remove(fd));
            } else {
                assertThat(table.get(fd)).as(where).isEqualTo(model.get(fd));
            }
            assertThat(table.size()).as(where).isEqualTo(model.size());
            if (op % 500 == 0) {
                assertThat(table.values(new Integer[0])).as(where).containsExactlyElementsOf(model.values());
            }
        }
        for (Map.Entry<Integer, Integer> e : model.entrySet()) {
            assertThat(table.get(e.getKey())).as("seed " + seed + ", fd " + e.getKey()).isEqualTo(e.getValue());
        }
        List<Integer> expected = new ArrayList<>(model.values());
        assertThat(table.values(new Integer[0])).as("seed " + seed).containsExactlyElementsOf(expected);
    }
}
