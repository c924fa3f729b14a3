package dev.iomux.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.ChartEncoder;
import org.knowm.xchart.style.Styler;

import dev.iomux.Events;
import dev.iomux.Selector;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;
import dev.iomux.spi.NativeBuffer;

/**
 * What one registration costs in memory, kept by the selector while the caller keeps nothing: iomux's
 * three backends, the JDK's Selector and Netty's epoll transport, side by side in one JVM.
 *
 * <pre>
 * Footprint [-n registrations] [-r rounds] [-c chart-dir]
 * </pre>
 *
 * <p>Heap: the used heap after full collections (System.gc five times, 20 ms apart, the lowest reading),
 * before and after registering N descriptors, divided by N; the empty selector or event loop is in the
 * "before", so only what grows with the registrations counts. Native: iomux's own native memory
 * ({@link NativeBuffer#liveBytes()}, through which every block iomux allocates goes), before and after.
 * The JDK and Netty allocate no native memory per registration on epoll (their event arrays have a fixed
 * size); the kernel's own cost of an epoll registration, the same for all three, is not on either.
 *
 * <p>iomux registers eventfds opened beforehand, and the caller drops each key. The JDK needs a channel to
 * register, so it is measured twice: the key alone (unconnected SocketChannels opened beforehand) and the
 * channel with its key (opened between the two readings), which is what a JDK server pays per descriptor.
 * Netty's registration is its channel (an unconnected EpollSocketChannel registered with an epoll event
 * loop). select is measured at its maximum: the descriptors below FD_SETSIZE, 1024.
 *
 * <p>Prints one {@code FOOTPRINT} line per case and round, then a markdown table of the medians; with
 * {@code -c} it draws {@code footprint.png} and {@code footprint.svg} there.
 */
public final class Footprint {
    private static final int FD_SETSIZE = 1024;

    private Footprint() {
    }

    /** One case: prepares what is not counted, then registers what is. */
    private interface Case {
        /** @return registrations made, between {@link #open} and the second reading */
        int register() throws Exception;

        /** Opens what is not counted: descriptors or channels the caller owns, the empty selector. */
        void open(int n) throws Exception;

        void close() throws Exception;
    }

    /**
     * Runs the cases and prints their results.
     *
     * @param args {@code -n N -r rounds -c chart-dir}
     * @throws Exception if a case fails
     */
    public static void main(String[] args) throws Exception {
        int n = 9_900;
        int rounds = 3;
        Path chartDir = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-n": n = Integer.parseInt(args[++i]); break;
                case "-r": rounds = Integer.parseInt(args[++i]); break;
                case "-c": chartDir = Path.of(args[++i]); break;
                default:
                    System.err.println("usage: Footprint [-n registrations] [-r rounds] [-c chart-dir]");
                    System.exit(2);
            }
        }
        Map<String, java.util.function.Supplier<Case>> cases = new LinkedHashMap<>();
        cases.put("iomux select", () -> new Iomux("select"));
        cases.put("iomux poll", () -> new Iomux("poll"));
        cases.put("iomux epoll", () -> new Iomux("epoll"));
        cases.put("JDK key", () -> new Jdk(false));
        cases.put("JDK channel+key", () -> new Jdk(true));
        cases.put("Netty epoll channel", Netty::new);
        for (java.util.function.Supplier<Case> c : cases.values()) {
            measure(c.get(), 200); // warm-up: classes loaded, code run, so none of it is counted
        }
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        for (int round = 1; round <= rounds; round++) {
            for (Map.Entry<String, java.util.function.Supplier<Case>> c : cases.entrySet()) {
                double[] r = measure(c.getValue().get(), n);
                results.computeIfAbsent(c.getKey(), k -> new ArrayList<>()).add(r);
                System.out.printf(Locale.ROOT, "FOOTPRINT\timpl=%s\tround=%d\tN=%d\theap_B=%.1f\tnative_B=%.1f%n",
                        c.getKey().replace(' ', '-'), round, (int) r[0], r[1], r[2]);
            }
        }
        System.out.printf(Locale.ROOT, "%n| per registration, median of %d rounds | registrations | heap bytes "
                + "| native bytes |%n|---|---:|---:|---:|%n", rounds);
        Map<String, double[]> medians = new LinkedHashMap<>();
        for (Map.Entry<String, List<double[]>> e : results.entrySet()) {
            double[] m = {median(e.getValue(), 0), median(e.getValue(), 1), median(e.getValue(), 2)};
            medians.put(e.getKey(), m);
            System.out.printf(Locale.ROOT, "| %s | %d | %.0f | %.0f |%n", e.getKey(), (int) m[0], m[1], m[2]);
        }
        System.out.printf("%nJVM: %s %s, %s%n", System.getProperty("java.vm.name"),
                System.getProperty("java.version"), ManagementFactory.getGarbageCollectorMXBeans().get(0).getName());
        if (chartDir != null) {
            chart(medians, n, chartDir.resolve("footprint"));
        }
    }

    /** @return {registrations, heap bytes per registration, native bytes per registration} */
    private static double[] measure(Case c, int n) throws Exception {
        try {
            c.open(n);
            long heap = usedHeapAfterGc();
            long nativeBytes = NativeBuffer.liveBytes();
            int registered = c.register();
            double heapPer = (double) (usedHeapAfterGc() - heap) / registered;
            double nativePer = (double) (NativeBuffer.liveBytes() - nativeBytes) / registered;
            Reference.reachabilityFence(c);
            return new double[] {registered, heapPer, nativePer};
        } finally {
            c.close();
        }
    }

    private static long usedHeapAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            least = Math.min(least, memory.getHeapMemoryUsage().getUsed());
        }
        return least;
    }

    private static double median(List<double[]> rows, int column) {
        double[] v = rows.stream().mapToDouble(r -> r[column]).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** iomux: eventfds opened first, registered for reading, keys dropped. */
    private static final class Iomux implements Case {
        private final String backend;
        private int[] fds = new int[0];
        private int count;
        private Selector selector;

        Iomux(String backend) {
            this.backend = backend;
        }

        @Override
        public void open(int n) throws IOException {
            // The selector first: select's own wake-up pipe must fit below FD_SETSIZE too.
            selector = Selectors.open(backend);
            selector.selectNow();
            fds = new int[n];
            while (count < n) {
                int fd = Descriptors.eventfd(0);
                if (backend.equals("select") && fd >= FD_SETSIZE) {
                    Descriptors.close(fd);
                    break;
                }
                fds[count++] = fd;
            }
        }

        @Override
        public int register() throws IOException {
            for (int i = 0; i < count; i++) {
                selector.register(fds[i], Events.READ, null);
            }
            selector.selectNow(); // poll and select build their sets here
            return count;
        }

        @Override
        public void close() throws IOException {
            if (selector != null) {
                selector.close();
            }
            for (int i = 0; i < count; i++) {
                Descriptors.close(fds[i]);
            }
        }
    }

    /** The JDK's default Selector (EPollSelectorImpl on Linux) with unconnected SocketChannels. */
    private static final class Jdk implements Case {
        private final boolean countChannels;
        private final List<SocketChannel> channels = new ArrayList<>();
        private java.nio.channels.Selector selector;
        private int n;

        Jdk(boolean countChannels) {
            this.countChannels = countChannels;
        }

        @Override
        public void open(int n) throws IOException {
            this.n = n;
            ((ArrayList<SocketChannel>) channels).ensureCapacity(n);
            if (!countChannels) {
                openChannels();
            }
            selector = java.nio.channels.Selector.open();
            selector.selectNow();
        }

        private void openChannels() throws IOException {
            for (int i = 0; i < n; i++) {
                SocketChannel ch = SocketChannel.open();
                ch.configureBlocking(false);
                channels.add(ch);
            }
        }

        @Override
        public int register() throws IOException {
            if (countChannels) {
                openChannels();
            }
            for (SocketChannel ch : channels) {
                ch.register(selector, SelectionKey.OP_READ); // the key is dropped, as iomux's are
            }
            selector.selectNow(); // the JDK applies registrations to epoll at the next select
            return channels.size();
        }

        @Override
        public void close() throws IOException {
            for (SocketChannel ch : channels) {
                ch.close();
            }
            if (selector != null) {
                selector.close();
            }
        }
    }

    /** Netty's epoll transport: unconnected EpollSocketChannels registered with one epoll event loop. */
    private static final class Netty implements Case {
        private final List<io.netty.channel.epoll.EpollSocketChannel> channels = new ArrayList<>();
        private io.netty.channel.EventLoopGroup group;
        private int n;

        @Override
        public void open(int n) {
            this.n = n;
            io.netty.channel.epoll.Epoll.ensureAvailability();
            group = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
                    io.netty.channel.epoll.EpollIoHandler.newFactory());
            // One channel registered and closed: the loop's lazily made parts are in the "before".
            io.netty.channel.epoll.EpollSocketChannel ch = new io.netty.channel.epoll.EpollSocketChannel();
            group.register(ch).syncUninterruptibly();
            ch.close().syncUninterruptibly();
            ((ArrayList<?>) channels).ensureCapacity(n);
        }

        @Override
        public int register() {
            for (int i = 0; i < n; i++) {
                io.netty.channel.epoll.EpollSocketChannel ch = new io.netty.channel.epoll.EpollSocketChannel();
                group.register(ch).syncUninterruptibly();
                channels.add(ch);
            }
            return n;
        }

        @Override
        public void close() {
            for (io.netty.channel.epoll.EpollSocketChannel ch : channels) {
                ch.close().syncUninterruptibly();
            }
            if (group != null) {
                group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
            }
        }
    }

    private static void chart(Map<String, double[]> medians, int n, Path base) throws IOException {
        List<String> names = new ArrayList<>(medians.keySet());
        List<Double> heap = new ArrayList<>();
        List<Double> nativeBytes = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (String name : names) {
            double[] m = medians.get(name);
            heap.add((double) Math.round(m[1]));
            nativeBytes.add((double) Math.round(m[2]));
            labels.add(name + ((int) m[0] == n ? "" : " (" + (int) m[0] + ")"));
        }
        CategoryChart chart = new CategoryChartBuilder().width(1100).height(560)
                .title("Memory per registration, " + n + " registered, after GC (select: below FD_SETSIZE). "
                        + "Kernel, every epoll: about 216 B more")
                .xAxisTitle("").yAxisTitle("bytes per registration").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setDecimalPattern("#"); // whole bytes on the bars and the axis
        chart.getStyler().setPlotGridVerticalLinesVisible(false);
        CategorySeries h = chart.addSeries("Java heap", labels, heap);
        h.setFillColor(new java.awt.Color(0x1F77B4));
        CategorySeries nv = chart.addSeries("native memory of the library", labels, nativeBytes);
        nv.setFillColor(new java.awt.Color(0xFF7F0E));
        try (java.io.OutputStream png = Files.newOutputStream(Path.of(base + ".png"))) {
            ChartEncoder.saveChart(chart, png, "png");
        }
        try (java.io.OutputStream svg = Files.newOutputStream(Path.of(base + ".svg"))) {
            ChartEncoder.saveChart(chart, svg, "svg");
        }
        System.out.println("chart: " + base + ".{png,svg} " + Arrays.toString(labels.toArray()));
    }
}
