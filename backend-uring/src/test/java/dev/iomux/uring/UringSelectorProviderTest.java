package dev.iomux.uring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.testing.LeakCheck;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Availability told, not guessed; never the default. */
@ExtendWith(LeakCheck.class)
class UringSelectorProviderTest {
    @Test
    @DisplayName("Available where kernel.io_uring_disabled allows it, and the reason names the switch otherwise")
    void availableHereOrSaysWhy() throws IOException {
        UringSelectorProvider provider = new UringSelectorProvider();
        String sysctl = Files.exists(UringSelectorProvider.IO_URING_DISABLED)
                ? Files.readString(UringSelectorProvider.IO_URING_DISABLED).strip() : "absent";
        if (sysctl.equals("0") || sysctl.equals("absent")) {
            assertThat(provider.unavailabilityCause()).as("kernel.io_uring_disabled=%s", sysctl).isNull();
            try (Selector sel = provider.open()) {
                assertThat(sel.backend()).isEqualTo("uring");
            }
        } else {
            assertThat(provider.unavailabilityCause()).as("kernel.io_uring_disabled=%s", sysctl).isNotNull();
        }
    }

    @Test
    @DisplayName("A setup the kernel refuses is told with the call, its errno and what it means")
    void aRefusedSetupIsToldWithItsErrno() {
        // A setup flag no kernel has (bit 30): io_uring_setup fails with EINVAL, as it does on a kernel that
        // lacks a flag the backend asks for.
        assertThatThrownBy(() -> UringSelectorProvider.probeSetup(1 << 30))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("io_uring_setup(entries=2, flags=0x40000000)")
                .hasMessageContaining("EINVAL")
                .hasMessageContaining("refused the ring's parameters");
    }

    @Test
    @DisplayName("kernel.io_uring_disabled=2 is told; 0, 1 and an absent switch leave it to io_uring_setup")
    void theSysctlIsRead(@TempDir Path dir) throws IOException {
        Path sysctl = dir.resolve("io_uring_disabled");
        Files.writeString(sysctl, "2\n");
        assertThat(UringSelectorProvider.disabledBySysctl(sysctl)).contains("kernel.io_uring_disabled=2");
        Files.writeString(sysctl, "1\n");
        assertThat(UringSelectorProvider.disabledBySysctl(sysctl)).isNull();
        Files.writeString(sysctl, "0\n");
        assertThat(UringSelectorProvider.disabledBySysctl(sysctl)).isNull();
        assertThat(UringSelectorProvider.disabledBySysctl(dir.resolve("absent"))).isNull();
    }

    @Test
    @DisplayName("Never the default: alone on the class path, Selectors.open() refuses and says to ask by name")
    void neverTheDefault() throws IOException {
        assertThat(Selectors.providers()).extracting(p -> p.name()).containsExactly("uring", "uring-single");
        assertThatThrownBy(Selectors::open).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("Selectors.open(\"uring\")");
        try (Selector sel = Selectors.open("uring")) {
            assertThat(sel.backend()).isEqualTo("uring");
        }
    }

    @Test
    @DisplayName("The binding passes a sixth and a seventh argument: a file mapped at an offset, both ways")
    void theBindingMapsAtAnOffset(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("two-pages");
        byte[] bytes = new byte[8192];
        bytes[0] = 1;
        bytes[4096] = 2;
        Files.write(file, bytes);
        int fd = dev.iomux.io.Descriptors.openReadOnly(file);
        try {
            // jnr-ffi, seven arguments: syscall(SYS_mmap, addr, length, PROT_READ, MAP_SHARED, fd, offset)
            assertSecondPage(Ring.LIB.syscall(Ring.SYS_MMAP, 0, 4096, 1, 1, fd, 4096), "syscall(SYS_mmap) through jnr-ffi");
            // jffi's invokeN6, six arguments: libc's mmap(addr, length, PROT_READ, MAP_SHARED, fd, offset)
            assertSecondPage(Ring.call6("mmap", 0, 4096, 1, 1, fd, 4096), "mmap through jffi's invokeN6");
        } finally {
            dev.iomux.io.Descriptors.close(fd);
        }
    }

    private static void assertSecondPage(long address, String how) {
        assertThat(address).as("%s at offset 4096", how).isNotEqualTo(-1);
        try {
            assertThat(com.kenai.jffi.MemoryIO.getInstance().getByte(address)).as("%s: the second page's first byte",
                    how).isEqualTo((byte) 2);
        } finally {
            Ring.LIB.munmap(address, 4096);
        }
    }
}
