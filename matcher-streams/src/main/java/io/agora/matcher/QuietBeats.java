package io.agora.matcher;

import io.agora.events.Heartbeat;
import io.agora.events.WorkerStatus;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which verified heartbeats the worker gate hands on to the pool market. A heartbeat with no task in
 * flight (it renews no lease) that reports what the last one handed on reported (pool, status and its
 * reason, free slots, load, owned partitions, price) says only that the worker lives: the gate absorbs
 * it, so an idle worker costs the pool market no transaction, repartition record or changelog write.
 * Liveness still reaches the pool: a heartbeat goes on once the last one handed on is
 * {@code refreshMs} old (a quarter of the worker grace), so the pool's last-seen time lags the
 * worker's by at most the refresh plus one heartbeat interval (4.5 s of the 10 s grace at the
 * defaults, against 2 s when every heartbeat went on): the rest of the grace is the margin for a
 * matcher that lags its input. A bench at load 47 with half the grace as the refresh (7 s) saw both
 * workers called offline at once.
 *
 * <p>Kept in memory only, per gate task: after a restart, a rebalance or a registration
 * ({@link #forget}) a worker's next heartbeat goes on, and handing one on is always safe. A
 * transaction that aborts after a heartbeat was handed on leaves it recorded here: the next is then
 * absorbed until the refresh, which the bound above already allows for.
 */
final class QuietBeats {
    /** What a heartbeat reports, apart from who sent it, when, and its signature. */
    private record Report(String pool, WorkerStatus status, String reason, int freeSlots, double load,
                          List<String> inFlight, List<Integer> owned, long price) {
        static Report of(Heartbeat hb) {
            return new Report(hb.getPool(), hb.getStatus(), hb.getStatusReason(), hb.getFreeSlots(), hb.getLoad(),
                    List.copyOf(hb.getInFlightTaskIds()), List.copyOf(hb.getOwnedPartitions()),
                    hb.getPricePerCpuSecondMicros());
        }
    }

    private record Passed(Report report, long atMs) {
    }

    private final long refreshMs;
    private final Map<String, Passed> last = new HashMap<>();

    QuietBeats(long refreshMs) {
        this.refreshMs = refreshMs;
    }

    /** Whether the gate hands this heartbeat on at {@code nowMs}; if so it is remembered as the last one. */
    boolean forward(Heartbeat hb, long nowMs) {
        Report r = Report.of(hb);
        Passed p = last.get(hb.getWorkerId());
        if (p != null && r.inFlight().isEmpty() && r.equals(p.report()) && nowMs - p.atMs() < refreshMs) {
            return false;
        }
        last.put(hb.getWorkerId(), new Passed(r, nowMs));
        return true;
    }

    /** The worker registered or left: its next heartbeat goes on, whatever it reports. */
    void forget(String workerId) {
        last.remove(workerId);
    }
}
