package dev.iomux;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Bad names given to {@link Selectors} get a message saying what to do (bad input). */
@ExtendWith(LeakCheck.class)
class SelectorsArgumentsTest {

    @Test
    void aNullBackendNameIsRefusedWithAMessageNotAStrayNullPointer() {
        // It used to fail inside String.toLowerCase, with the JVM's message about a null 'backend'.
        assertThatThrownBy(() -> Selectors.open(null)).isExactlyInstanceOf(NullPointerException.class)
                .hasMessageStartingWith("backend name must not be null: use Selectors.open() for the default");
        assertThatThrownBy(() -> Selectors.provider(null)).isExactlyInstanceOf(NullPointerException.class)
                .hasMessageContaining("backend name must not be null");
    }

    @Test
    void anUnknownNameSaysWhichBackendsThereAre() {
        assertThatThrownBy(() -> Selectors.open("nope")).isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no iomux backend named 'nope' on the class path");
    }
}
