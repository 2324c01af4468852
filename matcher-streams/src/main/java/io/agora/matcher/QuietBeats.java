package io.agora.matcher;

import io.agora.events.Heartbeat;
import io.agora.events.WorkerStatus;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The worker gate's view of each worker's liveness, and which verified heartbeats it hands on to the
 * pool market. A heartbeat with no task in flight (it renews no lease) that reports what the last one
 * handed on reported (pool, status and its reason, free slots, load, owned partitions, price) says only
 * that the worker lives: the gate absorbs it, so an idle worker costs the pool market no transaction,
 * repartition record or changelog write. Liveness is judged here instead: a watched worker not heard for
 * the worker grace is {@link #silent} once (the gate tells its pool, {@link Flow.Silent}), and its next
 * heartbeat goes on whatever it reports (the pool takes it back online).
 *
 * <p>Kept in memory only, per gate task, and built afresh at every {@code init} of the gate (a start, a
 * takeover, a task revived after an aborted transaction): every worker the gate holds in a pool is
 * watched from then, as heard then, and its next heartbeat goes on. So silence counts from the gate's
 * start, as in {@link PoolMarket#resume}, and nothing an aborted transaction handed on is taken as known.
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

    /** The last report handed on (null: none since the worker was watched), when the worker was last heard, whether it was called silent since. */
    private record Heard(Report passed, long atMs, boolean silent) {
    }

    private final long graceMs;
    private final Map<String, Heard> heard = new HashMap<>();

    QuietBeats(long graceMs) {
        this.graceMs = graceMs;
    }

    /** The worker is in a pool (registered, or held by the gate at its start): heard now, its next heartbeat goes on. */
    void watch(String workerId, long nowMs) {
        heard.put(workerId, new Heard(null, nowMs, false));
    }

    /** The worker left its pool (deregistered, slashed out): no longer watched. */
    void forget(String workerId) {
        heard.remove(workerId);
    }

    /**
     * Whether the gate hands this heartbeat on at {@code nowMs}: a task in flight, anything new, or the
     * first since the worker was watched or called silent. Either way the worker is heard now.
     */
    boolean forward(Heartbeat hb, long nowMs) {
        Report r = Report.of(hb);
        Heard h = heard.get(hb.getWorkerId());
        boolean news = h == null || h.silent() || !r.inFlight().isEmpty() || !r.equals(h.passed());
        heard.put(hb.getWorkerId(), new Heard(news ? r : h.passed(), nowMs, false));
        return news;
    }

    /** The watched workers not heard for longer than the grace at {@code nowMs}, each once per silence, by id. */
    List<String> silent(long nowMs) {
        List<String> out = new ArrayList<>();
        heard.forEach((id, h) -> {
            if (!h.silent() && h.atMs() + graceMs < nowMs) {
                out.add(id);
            }
        });
        out.sort(null);
        out.forEach(id -> heard.put(id, new Heard(heard.get(id).passed(), heard.get(id).atMs(), true)));
        return out;
    }

    /** Whether a watched worker's grace ends before {@code nowMs + horizonMs}: the gate's sweep must not idle past it. */
    boolean graceEndsWithin(long nowMs, long horizonMs) {
        for (Heard h : heard.values()) {
            if (!h.silent() && h.atMs() + graceMs < nowMs + horizonMs) {
                return true;
            }
        }
        return false;
    }
}
