package dev.iomux;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.StringJoiner;

/**
 * Opens selectors: the best available backend, or one by name (rule API-DEFAULT).
 *
 * <p>Backends are found with {@link ServiceLoader}: add {@code backend-epoll}, {@code backend-poll} or
 * {@code backend-select} (or several) as a dependency. {@link #open()} takes the one named by the system
 * property {@value #BACKEND_PROPERTY} if set, else the available backend with the highest
 * {@link SelectorProvider#priority()}: epoll, then poll, then select, as CPython's
 * {@code DefaultSelector}; a backend of rank 0 or less (uring) is opened only by name. Availability is
 * probed by opening the backend's kernel object once.
 */
public final class Selectors {
    /** The system property that picks a backend by name, e.g. {@code -Diomux.backend=poll}. */
    public static final String BACKEND_PROPERTY = "iomux.backend";

    private static volatile List<SelectorProvider> providers;

    private Selectors() {
    }

    /**
     * Opens a selector on the default backend.
     *
     * @return a new selector
     * @throws IOException                   if the kernel refuses
     * @throws IllegalArgumentException      if {@value #BACKEND_PROPERTY} names no backend on the class path
     * @throws UnsupportedOperationException if no backend is available, saying why for each
     */
    public static Selector open() throws IOException {
        return defaultProvider().open();
    }

    /**
     * Opens a selector on a backend chosen by name.
     *
     * @param backend "select", "poll", "epoll", or a port's name (case-insensitive)
     * @return a new selector
     * @throws IOException                   if the kernel refuses
     * @throws IllegalArgumentException      if no backend of that name is on the class path
     * @throws UnsupportedOperationException if the backend is not available here, with the cause
     * @throws NullPointerException          if {@code backend} is null
     */
    public static Selector open(String backend) throws IOException {
        return available(provider(backend)).open();
    }

    /**
     * Returns the provider {@link #open()} uses.
     *
     * @return the provider named by {@value #BACKEND_PROPERTY}, or the best available one
     * @throws IllegalArgumentException      if the property names no backend on the class path
     * @throws UnsupportedOperationException if no backend is available
     */
    public static SelectorProvider defaultProvider() {
        String forced = System.getProperty(BACKEND_PROPERTY);
        if (forced != null && !forced.isBlank()) {
            return available(provider(forced.trim()));
        }
        List<SelectorProvider> all = providers();
        for (SelectorProvider p : all) {
            if (p.priority() > 0 && p.isAvailable()) {
                return p;
            }
        }
        if (all.isEmpty()) {
            throw new UnsupportedOperationException("no iomux backend on the class path: add "
                    + "dev.iomux:backend-epoll (or backend-poll, backend-select) as a dependency");
        }
        StringJoiner why = new StringJoiner("; ");
        for (SelectorProvider p : all) {
            why.add(p.name() + ": " + (p.priority() <= 0 && p.isAvailable()
                    ? "available, but opened only by name: Selectors.open(\"" + p.name() + "\")"
                    : p.unavailabilityCause()));
        }
        throw new UnsupportedOperationException("no iomux backend is available here: " + why);
    }

    /**
     * Returns a provider by name, available or not.
     *
     * @param backend the backend's name, case-insensitive
     * @return the provider
     * @throws IllegalArgumentException if no backend of that name is on the class path
     * @throws NullPointerException     if {@code backend} is null
     */
    public static SelectorProvider provider(String backend) {
        if (backend == null) {
            throw new NullPointerException("backend name must not be null: use Selectors.open() for the default "
                    + "backend, or one of " + names(providers()));
        }
        String name = backend.toLowerCase(Locale.ROOT);
        List<SelectorProvider> all = providers();
        for (SelectorProvider p : all) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        List<String> names = names(all);
        throw new IllegalArgumentException("no iomux backend named '" + backend + "' on the class path "
                + "(found " + names + "): add dev.iomux:backend-" + name + " as a dependency, or pick one of "
                + names);
    }

    /**
     * Returns every provider on the class path, available or not, best first.
     *
     * @return the providers, read-only
     */
    public static List<SelectorProvider> providers() {
        List<SelectorProvider> p = providers;
        if (p == null) {
            List<SelectorProvider> found = new ArrayList<>();
            for (SelectorProvider sp : ServiceLoader.load(SelectorProvider.class, Selectors.class.getClassLoader())) {
                if (found.stream().noneMatch(f -> f.name().equals(sp.name()))) {
                    found.add(sp);
                }
            }
            found.sort(Comparator.comparingInt(SelectorProvider::priority).reversed());
            providers = p = List.copyOf(found);
        }
        return p;
    }

    private static List<String> names(List<SelectorProvider> all) {
        List<String> names = new ArrayList<>();
        all.forEach(p -> names.add(p.name()));
        return names;
    }

    private static SelectorProvider available(SelectorProvider p) {
        Throwable cause = p.unavailabilityCause();
        if (cause != null) {
            throw new UnsupportedOperationException("the " + p.name() + " backend is not available here: "
                    + cause.getMessage(), cause);
        }
        return p;
    }
}
