package dev.iomux.conformance;

import static dev.iomux.Events.ERROR;
import static dev.iomux.Events.HANGUP;
import static dev.iomux.Events.READ;
import static dev.iomux.Events.READ_HANGUP;
import static dev.iomux.Events.WRITE;
import static dev.iomux.conformance.Kit.failsWith;
import static dev.iomux.conformance.Scenarios.uses;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.iomux.Capability;
import dev.iomux.NativeIOException;
import dev.iomux.Selector;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Fds;

/** Section 4 of the catalog: regular files, pipes and Unix sockets. */
final class FileScenarios {
    private FileScenarios() {
    }

    static void define(Scenarios.Builder b) {
        b.rule("FILE-ALWAYS-READY", uses(Uses.FILE, Uses.DIRECTORY, Uses.DEV_NULL), FileScenarios::alwaysReady);
        b.rule("FILE-EPOLL-EPERM", uses(Uses.FILE, Uses.DIRECTORY, Uses.DEV_NULL), FileScenarios::epollRefuses);
        b.rule("PIPE-HUP", Uses.PIPE, FileScenarios::pipeHangUp);
        b.rule("PIPE-EPIPE", Uses.PIPE, FileScenarios::pipeBroken);
        b.rule("UNIX-HUP", Uses.UNIX, FileScenarios::unixHangUp);
    }

    private static Map<String, Integer> files(Run run) throws Exception {
        Map<String, Integer> files = new LinkedHashMap<>();
        files.put("file", run.fds().regularFile());
        files.put("directory", run.fds().directory());
        files.put("/dev/null", run.fds().devNull());
        return files;
    }

    /** select(2) and poll(2) call a file's poll method, which regular files lack: always ready. */
    static void alwaysReady(Run run) throws Exception {
        Selector sel = run.open();
        for (Map.Entry<String, Integer> e : files(run).entrySet()) {
            int fd = e.getValue();
            if (run.mechanism() == Mechanism.EPOLL) {
                refusedWithEperm(run, sel, fd, e.getKey());
                continue;
            }
            sel.register(fd, READ | WRITE);
            run.ready(sel, fd, READ | WRITE, e.getKey());
            sel.unregister(fd);
        }
    }

    /** epoll_ctl(2): EPERM "The target file fd does not support epoll" (CPython test_register_file). */
    static void epollRefuses(Run run) throws Exception {
        Selector sel = run.open();
        for (Map.Entry<String, Integer> e : files(run).entrySet()) {
            int fd = e.getValue();
            if (run.mechanism() == Mechanism.EPOLL) {
                refusedWithEperm(run, sel, fd, e.getKey());
            } else {
                sel.register(fd, READ);
                run.note(e.getKey() + ": accepted (" + run.mechanism().column() + " polls files; only epoll refuses)");
                sel.unregister(fd);
            }
        }
    }

    private static void refusedWithEperm(Run run, Selector sel, int fd, String what) {
        NativeIOException e = failsWith("EPERM", () -> sel.register(fd, READ | WRITE));
        assertThat(e.getMessage()).as("the error names the fd").contains("fd=" + fd);
        assertThat(sel.key(fd)).as("no key is left behind").isNull();
        assertThat(sel.keys()).as("no key is left behind").doesNotContainKey(fd);
        run.note(what + ": refused, EPERM");
    }

    /**
     * The kernel reports an empty pipe without writers as POLLHUP without POLLIN (fs/pipe.c, pipe_poll;
     * select folds POLLHUP into readable). The API makes a hang-up ready in every registered direction,
     * so a READ key is reported READ (and HANGUP where declared) before and after the data is read: the
     * read that returns 0 is what tells the caller. WRITE, which the key did not ask for, must not come.
     */
    static void pipeHangUp(Run run) throws Exception {
        Selector sel = run.open();
        int[] p = run.fds().pipe();
        Fds.write(p[1], 3);
        run.fds().close(p[1]);
        sel.register(p[0], READ);
        int seen = run.ready(sel, p[0], READ, "writer closed, 3 bytes left");
        run.flagsIfDeclared(seen, HANGUP, Capability.ERROR_HANGUP, "a pipe without writers");
        run.without(seen, WRITE | ERROR, "a pipe without writers, READ asked");
        assertThat(Fds.read(p[0], 16)).isEqualTo(3);
        assertThat(Fds.read(p[0], 16)).as("then end of stream").isZero();
        seen = run.ready(sel, p[0], READ, "writer closed, empty");
        run.flagsIfDeclared(seen, HANGUP, Capability.ERROR_HANGUP, "an empty pipe without writers");
        run.without(seen, WRITE | ERROR, "an empty pipe without writers, READ asked");
        assertThat(Fds.read(p[0], 16)).as("and end of stream again").isZero();
    }

    static void pipeBroken(Run run) throws Exception {
        Selector sel = run.open();
        int[] p = run.fds().pipe();
        run.fds().close(p[0]);
        sel.register(p[1], WRITE);
        int seen = run.ready(sel, p[1], WRITE, "reader closed");
        run.flagsIfDeclared(seen, ERROR, Capability.ERROR_HANGUP, "a pipe without readers");
        run.without(seen, READ | HANGUP, "a pipe without readers, WRITE asked");
        // The JVM ignores SIGPIPE, so the write fails with EPIPE instead of killing the process.
        failsWith("EPIPE", () -> Fds.write(p[1], 1));
    }

    /** unix(7) sockets hang up at once when the peer closes (TCP needs both directions shut or a reset). */
    static void unixHangUp(Run run) throws Exception {
        Selector sel = run.open();
        int[] closed = run.fds().socketPair();
        sel.register(closed[1], READ);
        run.fds().close(closed[0]);
        int seen = run.ready(sel, closed[1], READ, "peer closed");
        run.flagsIfDeclared(seen, HANGUP, Capability.ERROR_HANGUP, "a closed unix peer");
        run.flagsIfDeclared(seen, READ_HANGUP, Capability.READ_HANGUP, "a closed unix peer");
        run.without(seen, WRITE | ERROR, "a closed unix peer, READ asked");

        int[] shut = run.fds().socketPair();
        sel.register(shut[1], READ);
        Sockets.shutdownOutput(shut[0]);
        seen = run.ready(sel, shut[1], READ, "peer SHUT_WR");
        run.flagsIfDeclared(seen, READ_HANGUP, Capability.READ_HANGUP, "a unix peer's SHUT_WR");
        run.without(seen, HANGUP | ERROR, "a unix peer's SHUT_WR");
    }
}
