package dev.iomux.it.reliability;

import static dev.iomux.Events.EDGE;
import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.EXCLUSIVE;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.ONESHOT;
import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.WRITE;
import static dev.iomux.it.reliability.Misuse.ALL;
import static dev.iomux.it.reliability.Misuse.ANY;
import static dev.iomux.it.reliability.Misuse.accepted;
import static dev.iomux.it.reliability.Misuse.refused;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.iomux.NativeIOException;
import dev.iomux.Ready;
import dev.iomux.ReadyHandler;
import dev.iomux.Selector;
import dev.iomux.SelectorClosedException;
import dev.iomux.SelectorKey;
import dev.iomux.Selectors;
import dev.iomux.io.Descriptors;
import dev.iomux.testing.Async;
import dev.iomux.testing.Expect;
import dev.iomux.testing.Fds;

/**
 * Every misuse of the public API that docs/RELIABILITY.md lists, as data: {@link MisuseTableTest} runs
 * each on every backend it applies to. A row added here must be added to the document too (the test
 * checks both ways).
 */
final class MisuseCases {
    private static final List<String> SELECT = List.of("select");
    private static final List<String> POLL_EPOLL = List.of("poll", "epoll");
    private static final List<String> SELECT_POLL = List.of("select", "poll");
    private static final List<String> EPOLL = List.of("epoll");
    private static final String CLOSED = "the {backend} selector is closed";

    private MisuseCases() {
    }

    static List<Misuse> all() {
        List<Misuse> m = new ArrayList<>();

        // --- Descriptors ---------------------------------------------------------------------------
        m.add(refused("M01", "register a negative fd (-1)", ALL, IllegalArgumentException.class,
                "fd must not be negative, got N", true, c -> {
                    c.subject(-1);
                    return () -> c.sel.register(-1, READ);
                }));
        m.add(refused("M02", "modify a negative fd (-5)", ALL, IllegalArgumentException.class,
                "fd must not be negative, got N", true, c -> {
                    c.subject(-5);
                    return () -> c.sel.modify(-5, READ);
                }));
        m.add(refused("M03", "unregister a negative fd (-5)", ALL, IllegalArgumentException.class,
                "fd must not be negative, got N", true, c -> {
                    c.subject(-5);
                    return () -> c.sel.unregister(-5);
                }));
        m.add(refused("M04", "register a closed fd", ALL, NativeIOException.class,
                "EBADF (Bad file descriptor)", true, c -> {
                    int[] p = c.fds.pipe();
                    int fd = MisuseContext.freeNumber(900, 1000);
                    Descriptors.dup2(p[0], fd);
                    Descriptors.close(fd);
                    c.subject(fd);
                    return () -> c.sel.register(fd, READ);
                }));
        // epoll_ctl says EBADF by itself, without the hint select and poll add.
        m.add(refused("M05", "register a never-opened fd number", ALL, NativeIOException.class,
                "EBADF (Bad file descriptor)", true, c -> {
                    int fd = c.subject(MisuseContext.freeNumber(900, 1000));
                    return () -> c.sel.register(fd, READ);
                }));
        m.add(refused("M06", "register a huge fd (Integer.MAX_VALUE - 1) on select", SELECT,
                IllegalArgumentException.class, "an fd_set is a bitmap of FD_SETSIZE = 1024 bits", true, c -> {
                    int fd = c.subject(Integer.MAX_VALUE - 1);
                    return () -> c.sel.register(fd, READ);
                }));
        m.add(refused("M07", "register a huge fd (Integer.MAX_VALUE - 1) on poll or epoll", POLL_EPOLL,
                NativeIOException.class, "EBADF (Bad file descriptor)", true, c -> {
                    int fd = c.subject(Integer.MAX_VALUE - 1);
                    c.afterwards(() -> assertThat(c.sel.key(fd)).isNull());
                    return () -> c.sel.register(fd, READ);
                }));
        m.add(refused("M08", "register an open fd above 1023 (FD_SETSIZE is 1024) on select", SELECT,
                IllegalArgumentException.class, "use backend-poll or backend-epoll, which have no such limit", true,
                c -> {
                    int[] p = c.fds.pipe();
                    int fd = c.subject(MisuseContext.freeNumber(1025, 1100));
                    Descriptors.dup2(p[0], fd);
                    c.fds.track(fd);
                    return () -> c.sel.register(fd, READ);
                }));
        m.add(accepted("M09", "register an open fd above 1023 on poll or epoll", POLL_EPOLL,
                "reported when ready", c -> {
                    int[] p = c.fds.pipe();
                    int fd = c.subject(MisuseContext.freeNumber(1025, 1100));
                    Descriptors.dup2(p[0], fd);
                    c.fds.track(fd);
                    Fds.write(p[1], 1);
                    return () -> {
                        c.sel.register(fd, READ);
                        assertThat(Expect.ready(c.sel, fd, READ)).isNotZero();
                        c.sel.unregister(fd);
                    };
                }));

        // --- Event masks ---------------------------------------------------------------------------
        m.add(refused("M10", "register with an empty mask (0)", ALL, IllegalArgumentException.class,
                "has no interest: register READ, WRITE or PRIORITY", true, c -> {
                    int fd = c.pipeReadEnd();
                    return () -> c.sel.register(fd, 0);
                }));
        m.add(refused("M11", "register with unknown bits (1 << 20)", ALL, IllegalArgumentException.class,
                "has unknown bits 0x100000: use the constants of Events", true, c -> {
                    int fd = c.pipeReadEnd();
                    return () -> c.sel.register(fd, READ | (1 << 20));
                }));
        m.add(refused("M12", "register a report-only flag (READ | HANGUP)", ALL, IllegalArgumentException.class,
                "which a select reports but a key cannot register", true, c -> {
                    int fd = c.pipeReadEnd();
                    return () -> c.sel.register(fd, READ | HANGUP);
                }));
        m.add(refused("M13", "register modes without an interest (ONESHOT)", ALL, IllegalArgumentException.class,
                "has no interest", true, c -> {
                    int fd = c.pipeReadEnd();
                    return () -> c.sel.register(fd, ONESHOT);
                }));
        m.add(refused("M14", "register EXCLUSIVE | ONESHOT on epoll", EPOLL, IllegalArgumentException.class,
                "EXCLUSIVE cannot be combined with ONESHOT or PRIORITY", true, c -> {
                    int fd = c.pipeReadEnd();
                    return () -> c.sel.register(fd, READ | EXCLUSIVE | ONESHOT);
                }));
        m.add(refused("M15", "register EXCLUSIVE | PRIORITY on epoll", EPOLL, IllegalArgumentException.class,
                "EXCLUSIVE cannot be combined with ONESHOT or PRIORITY", true, c -> {
                    int fd = c.pipeReadEnd();
                    return () -> c.sel.register(fd, PRIORITY | EXCLUSIVE);
                }));
        m.add(refused("M16", "register EDGE on select or poll", SELECT_POLL, UnsupportedOperationException.class,
                "the {backend} backend does not support edge-triggered mode (Events.EDGE)", true, c -> {
                    int fd = c.pipeReadEnd();
                    return () -> c.sel.register(fd, READ | EDGE);
                }));
        m.add(refused("M17", "register EXCLUSIVE (alone or with ONESHOT) on select or poll", SELECT_POLL,
                UnsupportedOperationException.class,
                "the {backend} backend does not support exclusive wake-up mode (Events.EXCLUSIVE)", true, c -> {
                    int fd = c.pipeReadEnd();
                    return () -> c.sel.register(fd, READ | EXCLUSIVE | ONESHOT);
                }));
        m.add(refused("M18", "modify a key registered EXCLUSIVE", EPOLL, IllegalStateException.class,
                "is registered EXCLUSIVE, which epoll_ctl(2) cannot modify (EINVAL): unregister it and register "
                        + "again", true, c -> {
                    int fd = c.pipeReadEnd();
                    c.sel.register(fd, READ | EXCLUSIVE);
                    return () -> c.sel.modify(fd, READ | WRITE);
                }));
        m.add(refused("M19", "modify a key to add EXCLUSIVE", EPOLL, IllegalArgumentException.class,
                "EXCLUSIVE can only be set when registering", true, c -> {
                    int fd = c.pipeReadEnd();
                    c.sel.register(fd, READ);
                    return () -> c.sel.modify(fd, READ | EXCLUSIVE);
                }));
        m.add(refused("M20", "modify to an empty mask", ALL, IllegalArgumentException.class, "has no interest",
                true, c -> {
                    int fd = c.pipeReadEnd();
                    c.sel.register(fd, READ, "kept");
                    c.afterwards(() -> assertThat(c.sel.key(fd).attachment()).isEqualTo("kept"));
                    return () -> c.sel.modify(fd, 0);
                }));
        m.add(refused("M21", "modify EDGE into a key on select or poll", SELECT_POLL,
                UnsupportedOperationException.class, "does not support edge-triggered mode", true, c -> {
                    int fd = c.pipeReadEnd();
                    c.sel.register(fd, READ);
                    c.afterwards(() -> assertThat(c.sel.key(fd).events()).isEqualTo(READ));
                    return () -> c.sel.modify(fd, READ | EDGE);
                }));

        // --- Registration state --------------------------------------------------------------------
        m.add(refused("M22", "register an fd twice", ALL, IllegalStateException.class,
                "is already registered with this {backend} selector", true, c -> {
                    int fd = c.pipeReadEnd();
                    c.sel.register(fd, READ, "first");
                    c.afterwards(() -> assertThat(c.sel.key(fd).attachment()).isEqualTo("first"));
                    return () -> c.sel.register(fd, WRITE, "second");
                }));
        m.add(refused("M23", "modify an fd that is not registered", ALL, IllegalStateException.class,
                "it is not registered with this {backend} selector", true, c -> {
                    int fd = c.pipeReadEnd();
                    return () -> c.sel.modify(fd, READ, null);
                }));
        m.add(refused("M24", "unregister an fd that is not registered", ALL, IllegalStateException.class,
                "it is not registered with this {backend} selector", true, c -> {
                    int fd = c.subject(123_456);
                    return () -> c.sel.unregister(fd);
                }));
        m.add(refused("M25", "unregister an fd twice", ALL, IllegalStateException.class,
                "it is not registered", true, c -> {
                    int fd = c.pipeReadEnd();
                    c.sel.register(fd, READ);
                    c.sel.unregister(fd);
                    return () -> c.sel.unregister(fd);
                }));

        // --- Nulls ---------------------------------------------------------------------------------
        m.add(accepted("M26", "a null attachment in register and modify", ALL,
                "allowed: the key's attachment() is null", c -> {
                    int fd = c.pipeReadEnd();
                    return () -> {
                        assertThat(c.sel.register(fd, READ, null).attachment()).isNull();
                        assertThat(c.sel.modify(fd, READ, "x").attachment()).isEqualTo("x");
                        assertThat(c.sel.modify(fd, READ | WRITE, null).attachment()).isNull();
                    };
                }));
        m.add(refused("M27", "a null ReadyHandler (select, select with timeout, selectNow)", ALL,
                NullPointerException.class, "handler must not be null: use select() for a list of ready keys",
                false, c -> () -> {
                    expect(NullPointerException.class, () -> c.sel.selectNow((ReadyHandler) null));
                    expect(NullPointerException.class, () -> c.sel.select(1, TimeUnit.MILLISECONDS, null));
                    c.sel.select((ReadyHandler) null);
                }));
        m.add(refused("M28", "a null Duration timeout", ALL, NullPointerException.class,
                "timeout must not be null: use select() to wait without one", false,
                c -> () -> c.sel.select((Duration) null)));
        m.add(refused("M29", "a null TimeUnit", ALL, NullPointerException.class, "unit must not be null", false,
                c -> () -> c.sel.select(1, null, (k, e) -> { })));
        m.add(refused("M30", "Selectors.open(null)", ANY, NullPointerException.class,
                "backend name must not be null", false, c -> () -> Selectors.open(null)));
        m.add(refused("M31", "Selectors.open of an unknown backend name", ANY, IllegalArgumentException.class,
                "no iomux backend named 'nope' on the class path", false, c -> () -> Selectors.open("nope")));
        m.add(refused("M32", "Selectors.open() with -Diomux.backend naming no backend", ANY,
                IllegalArgumentException.class, "no iomux backend named 'nope' on the class path", false, c -> {
                    String previous = System.getProperty(Selectors.BACKEND_PROPERTY);
                    System.setProperty(Selectors.BACKEND_PROPERTY, "nope");
                    c.cleanup(() -> {
                        if (previous == null) {
                            System.clearProperty(Selectors.BACKEND_PROPERTY);
                        } else {
                            System.setProperty(Selectors.BACKEND_PROPERTY, previous);
                        }
                    });
                    return Selectors::open;
                }));

        // --- After close ---------------------------------------------------------------------------
        m.add(refused("M33", "register after close", ALL, SelectorClosedException.class,
                "cannot register fd N: " + CLOSED, true, c -> {
                    int fd = c.pipeReadEnd();
                    c.sel.close();
                    return () -> c.sel.register(fd, READ);
                }));
        m.add(refused("M34", "modify after close (both forms)", ALL, SelectorClosedException.class,
                "cannot modify fd N: " + CLOSED, true, c -> {
                    int fd = c.pipeReadEnd();
                    c.sel.register(fd, READ);
                    c.sel.close();
                    return () -> {
                        expect(SelectorClosedException.class, () -> c.sel.modify(fd, WRITE));
                        c.sel.modify(fd, WRITE, null);
                    };
                }));
        m.add(refused("M35", "unregister after close", ALL, SelectorClosedException.class,
                "cannot unregister fd N: " + CLOSED, true, c -> {
                    int fd = c.pipeReadEnd();
                    c.sel.register(fd, READ);
                    c.sel.close();
                    return () -> c.sel.unregister(fd);
                }));
        m.add(refused("M36", "every select after close (6 forms)", ALL, SelectorClosedException.class,
                "cannot select: " + CLOSED, false, c -> {
                    c.sel.close();
                    ReadyHandler h = (k, e) -> { };
                    return () -> {
                        expect(SelectorClosedException.class, c.sel::select);
                        expect(SelectorClosedException.class, () -> c.sel.select(Duration.ofSeconds(1)));
                        expect(SelectorClosedException.class, () -> c.sel.select(h));
                        expect(SelectorClosedException.class, () -> c.sel.select(1, TimeUnit.SECONDS, h));
                        expect(SelectorClosedException.class, () -> c.sel.selectNow(h));
                        c.sel.selectNow();
                    };
                }));
        m.add(refused("M37", "key(fd) after close", ALL, SelectorClosedException.class,
                "cannot look up fd N: " + CLOSED, true, c -> {
                    int fd = c.pipeReadEnd();
                    c.sel.close();
                    return () -> c.sel.key(fd);
                }));
        m.add(refused("M38", "keys(), and a keys() view taken before close", ALL, SelectorClosedException.class,
                "cannot list keys: " + CLOSED, false, c -> {
                    var view = c.sel.keys();
                    c.sel.close();
                    return () -> {
                        expect(SelectorClosedException.class, view::size);
                        expect(SelectorClosedException.class, () -> view.entrySet().iterator());
                        c.sel.keys();
                    };
                }));
        m.add(accepted("M39", "close twice, wakeup after close", ALL, "no exception; isOpen() is false", c -> {
            int fd = c.pipeReadEnd();
            SelectorKey key = c.sel.register(fd, READ);
            return () -> {
                c.sel.close();
                c.sel.close();
                c.sel.wakeup();
                assertThat(c.sel.isOpen()).isFalse();
                assertThat(key.isValid()).isFalse();
                assertThat(Descriptors.isOpen(fd)).as("close leaves registered descriptors open").isTrue();
            };
        }));

        // --- Threads -------------------------------------------------------------------------------
        m.add(refused("M40", "select from two threads at once", ALL, IllegalStateException.class,
                "selector is already selecting in thread", false, c -> {
                    CompletableFuture<List<Ready>> first = Async.selectBlocked(c.sel);
                    MisuseContext.Check release = () -> {
                        c.sel.wakeup();
                        assertThat(first.get(10, TimeUnit.SECONDS)).as("the first select goes on").isEmpty();
                    };
                    c.afterwards(release);
                    c.cleanup(release);
                    return c.sel::selectNow;
                }));
        m.add(refused("M41", "select from inside a ReadyHandler", ALL, IllegalStateException.class,
                "select called from inside a ReadyHandler of the same {backend} selector", false, c -> {
                    int w = c.subject(c.fds.pipe()[1]);
                    c.sel.register(w, WRITE);
                    return () -> c.sel.select(5, TimeUnit.SECONDS, (k, e) -> c.sel.selectNow());
                }));
        m.add(refused("M42", "close while another thread is blocked in select", ALL, SelectorClosedException.class,
                "cannot select: " + CLOSED, false, c -> {
                    c.sel.register(c.pipeReadEnd(), READ);
                    CompletableFuture<List<Ready>> blocked = Async.selectBlocked(c.sel);
                    return () -> {
                        c.sel.close();
                        try {
                            blocked.get(10, TimeUnit.SECONDS);
                        } catch (ExecutionException e) {
                            throw e.getCause(); // SelectorClosedException is unchecked: not wrapped
                        }
                    };
                }));
        m.add(accepted("M43", "register and unregister racing close, 200 rounds", ALL,
                "each call returns normally or throws SelectorClosedException; keys made before close are "
                        + "invalid after it; nothing leaks", MisuseCases::registerRacingClose));

        // --- Files and the selector's own descriptors ----------------------------------------------
        m.add(refused("M44", "a regular file on epoll", EPOLL, NativeIOException.class,
                "EPERM (Operation not permitted): epoll cannot watch regular files", true, c -> {
                    int fd = c.subject(c.fds.regularFile());
                    return () -> c.sel.register(fd, READ);
                }));
        m.add(refused("M45", "a directory on epoll", EPOLL, NativeIOException.class,
                "EPERM (Operation not permitted): epoll cannot watch regular files, directories", true, c -> {
                    int fd = c.subject(c.fds.directory());
                    return () -> c.sel.register(fd, READ);
                }));
        m.add(accepted("M46", "a regular file and a directory on select or poll", SELECT_POLL,
                "always ready (the file for READ and WRITE, the directory for READ)", c -> {
                    int file = c.fds.regularFile();
                    int dir = c.fds.directory();
                    return () -> {
                        c.sel.register(file, READ | WRITE);
                        c.sel.register(dir, READ);
                        assertThat(Expect.ready(c.sel, file, READ | WRITE)).isNotZero();
                        assertThat(Expect.ready(c.sel, dir, READ)).isNotZero();
                        c.sel.unregister(file);
                        c.sel.unregister(dir);
                    };
                }));
        m.add(refused("M47", "the epoll instance's own fd on epoll", EPOLL, IllegalArgumentException.class,
                "belongs to this epoll selector itself (its kernel object): it cannot be registered", true, c -> {
                    int fd = c.subject(c.ownDescriptor("eventpoll"));
                    return () -> c.sel.register(fd, READ);
                }));
        m.add(refused("M48", "the selector's own wake-up pipe", ALL, IllegalArgumentException.class,
                "belongs to this {backend} selector itself (its wake-up pipe)", true, c -> {
                    int fd = c.subject(c.ownDescriptor("pipe:"));
                    return () -> c.sel.register(fd, READ);
                }));
        m.add(accepted("M49", "an fd closed behind the selector's back", ALL,
                "no exception: select and poll report it as ERROR (with its interest) until unregistered, epoll "
                        + "drops it silently; no spin; unregister still works", MisuseCases::closedBehindTheBack));

        // --- Handlers ------------------------------------------------------------------------------
        m.add(refused("M50", "a ReadyHandler that throws an IOException", ALL, IOException.class,
                "handler failed", false, c -> handlerThrows(c, new IOException("handler failed"))));
        m.add(refused("M51", "a ReadyHandler that throws a RuntimeException", ALL, IllegalStateException.class,
                "handler broke", false, c -> handlerThrows(c, new IllegalStateException("handler broke"))));
        return m;
    }

    /**
     * Two ready keys; the handler throws at the first. The same exception leaves the select, and the
     * next select delivers the other key, which no later kernel report would bring back (ONESHOT).
     */
    private static Misuse.Call handlerThrows(MisuseContext c, Exception thrown) throws IOException {
        int a = c.fds.pipe()[1];
        int b = c.fds.pipe()[1];
        c.sel.register(a, WRITE | ONESHOT, "a");
        c.sel.register(b, WRITE | ONESHOT, "b");
        List<Object> delivered = new ArrayList<>();
        c.afterwards(() -> {
            assertThat(delivered).hasSize(1);
            assertThat(c.sel.select(Duration.ofSeconds(5))).extracting(Ready::attachment)
                    .containsExactly(delivered.get(0).equals("a") ? "b" : "a");
        });
        return () -> c.sel.select(5, TimeUnit.SECONDS, (key, events) -> {
            delivered.add(key.attachment());
            if (thrown instanceof IOException) {
                throw (IOException) thrown;
            }
            throw (RuntimeException) thrown;
        });
    }

    private static Misuse.Call closedBehindTheBack(MisuseContext c) throws IOException {
        int[] p = c.fds.pipe();
        int fd = c.subject(MisuseContext.freeNumber(900, 1000)); // not reused by what the test opens
        Descriptors.dup2(p[0], fd);
        c.sel.register(fd, READ, "closed behind its back");
        Descriptors.close(fd);
        return () -> {
            List<Ready> got = c.sel.select(Duration.ofMillis(300));
            if (c.backend.equals("epoll")) {
                assertThat(got).as("epoll: the kernel dropped the entry with the file").isEmpty();
            } else {
                assertThat(got).extracting(Ready::fd).containsExactly(fd);
                assertThat(got.get(0).events() & (ERROR | READ)).isEqualTo(ERROR | READ);
            }
            c.sel.unregister(fd);
            Expect.idles(c.sel, 300, 200);
        };
    }

    private static Misuse.Call registerRacingClose(MisuseContext c) throws IOException {
        int[] ends = new int[16];
        for (int i = 0; i < ends.length; i += 2) {
            int[] p = c.fds.pipe();
            ends[i] = p[0];
            ends[i + 1] = p[1];
        }
        return () -> {
            SplittableRandom rnd = new SplittableRandom(6);
            AtomicInteger refusedAsClosed = new AtomicInteger();
            int keysMade = 0;
            for (int round = 0; round < 200; round++) {
                Selector s = Selectors.open(c.backend);
                List<SelectorKey> made = new ArrayList<>();
                CountDownLatch started = new CountDownLatch(1);
                CompletableFuture<Void> racer = Async.run(() -> {
                    started.countDown();
                    try {
                        for (;;) {
                            for (int fd : ends) {
                                made.add(s.register(fd, fd == ends[0] ? READ : WRITE));
                            }
                            for (int fd : ends) {
                                s.unregister(fd);
                            }
                        }
                    } catch (SelectorClosedException expected) {
                        refusedAsClosed.incrementAndGet();
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
                started.await();
                if (rnd.nextBoolean()) {
                    Thread.sleep(0, rnd.nextInt(500_000));
                }
                s.close();
                racer.get(10, TimeUnit.SECONDS); // any exception but SelectorClosedException fails here
                for (SelectorKey k : made) {
                    assertThat(k.isValid()).isFalse();
                }
                keysMade += made.size();
            }
            assertThat(refusedAsClosed).hasValue(200);
            assertThat(keysMade).as("the races registered something before close").isPositive();
        };
    }

    /** Runs one of several forms of a misuse that must fail the same way as the one the row records. */
    static void expect(Class<? extends Throwable> type, Misuse.Call call) {
        try {
            call.run();
        } catch (Throwable t) {
            assertThat(t).isExactlyInstanceOf(type);
            return;
        }
        throw new AssertionError("expected " + type.getSimpleName() + ", but the call returned");
    }
}
