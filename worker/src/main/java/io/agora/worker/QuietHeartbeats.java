package io.agora.worker;

import io.agora.events.WorkerStatus;

import java.util.List;

/**
 * Which of a worker identity's heartbeats go out. One that renews no lease (nothing in flight) and
 * reports what the last one sent reported (status and its reason, free slots, load, owned
 * partitions, price, images) only says that the worker lives: it stays home until the last one
 * sent is {@code idleMs} old. Anything new goes at once, and a busy worker beats every interval, as
 * its in-flight tasks' leases need. The matcher's worker gate, which judges liveness, hands no quiet
 * beat on to the pool (its {@code QuietBeats}); each beat it reads still costs it a transaction, a
 * changelog write and a signature check, and the broker a produce. At the defaults (2 s interval,
 * 4 s idle) an idle worker writes half the records, and the gate hears it at most 4 s apart, well
 * within the 10 s grace.
 */
final class QuietHeartbeats {
    /** What a heartbeat reports, apart from who sent it, when, and its signature. */
    record Report(String pool, WorkerStatus status, String reason, int freeSlots, double load, List<String> inFlight,
                  List<Integer> owned, long price, List<String> images) {
    }

    private final long idleMs;
    private Report last;
    private long lastSentMs;

    /** {@code idleMs}: the longest an idle worker stays silent (at least one heartbeat interval). */
    QuietHeartbeats(long idleMs) {
        this.idleMs = idleMs;
    }

    /** Whether the heartbeat reporting {@code r} goes out at {@code nowMs}; if so it is remembered as the last one. */
    synchronized boolean send(Report r, long nowMs) {
        if (r.inFlight().isEmpty() && r.equals(last) && nowMs - lastSentMs < idleMs) {
            return false;
        }
        last = r;
        lastSentMs = nowMs;
        return true;
    }
}
