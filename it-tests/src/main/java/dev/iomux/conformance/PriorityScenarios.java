package dev.iomux.conformance;

import static dev.iomux.Events.PRIORITY;
import static dev.iomux.Events.READ;
import static dev.iomux.conformance.Kit.label;
import static dev.iomux.conformance.Scenarios.uses;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.ProtocolFamily;
import java.nio.ByteBuffer;

import dev.iomux.Capability;
import dev.iomux.Selector;
import dev.iomux.io.SockOpt;
import dev.iomux.io.Sockets;
import dev.iomux.testing.Fds;

/**
 * Section 3 of the catalog: the exceptional condition, TCP urgent data (select(2): exceptfds). Linux loses
 * the urgent byte to a normal read at the mark (observed, rule 8), so these scenarios read it first.
 */
final class PriorityScenarios {
    private PriorityScenarios() {
    }

    static void define(Scenarios.Builder b) {
        b.rule("PRI-OOB", uses(Uses.TCP4, Uses.TCP6), PriorityScenarios::outOfBand);
        b.rule("PRI-OOB-INLINE", uses(Uses.TCP4, Uses.TCP6), PriorityScenarios::inline);
    }

    /** A backend without PRIORITY must refuse it; true of none of ours, but of a port perhaps. */
    private static boolean refusedIfUndeclared(Run run) throws Exception {
        if (run.supports(Capability.PRIORITY)) {
            return false;
        }
        Modes.refuses(run, PRIORITY | READ, Capability.PRIORITY);
        return true;
    }

    static void outOfBand(Run run) throws Exception {
        if (refusedIfUndeclared(run)) {
            return;
        }
        Selector sel = run.open();
        for (ProtocolFamily f : Kit.TCP) {
            int[] c = run.fds().connectedPair(f);
            sel.register(c[1], PRIORITY);
            run.notReady(sel, c[1], label(f) + " no urgent data");
            Kit.send(c[0], 2);
            Kit.sendUrgent(c[0], (byte) 'u');
            run.ready(sel, c[1], PRIORITY, label(f) + " 2 bytes + 1 urgent");
            sel.modify(c[1], READ | PRIORITY);
            run.ready(sel, c[1], READ | PRIORITY, label(f) + " READ|PRIORITY");
            // tcp(7): a normal read stops at the mark.
            assertThat(Fds.read(c[1], 16)).as("a normal read stops at the urgent mark").isEqualTo(2);
            assertThat(Sockets.atMark(c[1])).as("SIOCATMARK").isTrue();
            ByteBuffer oob = ByteBuffer.allocate(1);
            assertThat(Sockets.recv(c[1], oob, Sockets.MSG_OOB)).isEqualTo(1);
            assertThat(oob.get(0)).isEqualTo((byte) 'u');
            sel.modify(c[1], PRIORITY);
            run.notReady(sel, c[1], label(f) + " urgent byte read");
            sel.unregister(c[1]);

            // Urgent data alone, no normal data before the mark: P without R (tcp_poll does not count the
            // urgent byte as data to read), even with READ asked.
            int[] u = run.fds().connectedPair(f);
            sel.register(u[1], READ | PRIORITY);
            Kit.sendUrgent(u[0], (byte) 'v');
            int seen = run.ready(sel, u[1], PRIORITY, label(f) + " 1 urgent byte alone, READ|PRIORITY");
            run.without(seen, READ, "urgent data alone");
            assertThat(Sockets.recv(u[1], oob.clear(), Sockets.MSG_OOB)).isEqualTo(1);
            run.notReady(sel, u[1], label(f) + " the lone urgent byte read");
            sel.unregister(u[1]);
        }
    }

    static void inline(Run run) throws Exception {
        if (refusedIfUndeclared(run)) {
            return;
        }
        Selector sel = run.open();
        for (ProtocolFamily f : Kit.TCP) {
            int[] c = run.fds().connectedPair(f);
            Sockets.setOption(c[1], SockOpt.SO_OOBINLINE, 1);
            sel.register(c[1], PRIORITY);
            Kit.sendUrgent(c[0], (byte) 'u');
            run.ready(sel, c[1], PRIORITY, label(f) + " urgent, OOBINLINE");
            ByteBuffer b = ByteBuffer.allocate(16);
            assertThat(Sockets.recv(c[1], b, 0)).as("the urgent byte, in the normal stream").isEqualTo(1);
            assertThat(b.get(0)).isEqualTo((byte) 'u');
            run.notReady(sel, c[1], label(f) + " urgent byte read inline");
            sel.unregister(c[1]);
        }
    }
}
