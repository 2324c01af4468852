package io.agora.ingest.market;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A job's executions told from its events (agora.job_events, oldest first): one per replica,
 * attempt and worker the matcher placed it on. An {@code ASSIGNED} or {@code REASSIGNED} event opens
 * one (a reassignment says why the replica moved); {@code STARTED} and {@code REPLICA_FINISHED}
 * (whose reason is the result's status) mark it; a later reassignment of the same replica ends it
 * with outcome {@code REASSIGNED} and that reassignment's reason. An execution still open has no outcome.
 */
public final class Executions {
    private Executions() {
    }

    /** One job event as the read model keeps it. */
    public record Event(String eventId, String type, @Nullable String reason, @Nullable String workerId, int replica,
                        int attempt, Instant at) {
    }

    /** One replica's attempt on one worker. */
    @Serdeable
    public record Execution(int replica, int attempt, String workerId, Instant assignedAt,
                            @Nullable String assignedBecause, @Nullable Instant startedAt, @Nullable Instant endedAt,
                            @Nullable String outcome, @Nullable String endReason) {
        Execution end(Instant at, String outcome, @Nullable String reason) {
            return new Execution(replica, attempt, workerId, assignedAt, assignedBecause, startedAt, at, outcome, reason);
        }

        Execution started(Instant at) {
            return new Execution(replica, attempt, workerId, assignedAt, assignedBecause, at, endedAt, outcome, endReason);
        }
    }

    public static List<Execution> of(List<Event> events) {
        List<Execution> all = new ArrayList<>();
        Map<Integer, Integer> openByReplica = new LinkedHashMap<>();
        for (Event e : events) {
            if (e.workerId() == null || e.replica() < 0) {
                continue;
            }
            Integer open = openByReplica.get(e.replica());
            switch (e.type()) {
                case "ASSIGNED", "REASSIGNED" -> {
                    boolean moved = "REASSIGNED".equals(e.type());
                    if (open != null && all.get(open).outcome() == null) {
                        all.set(open, all.get(open).end(e.at(), "REASSIGNED", e.reason()));
                    }
                    all.add(new Execution(e.replica(), e.attempt(), e.workerId(), e.at(), moved ? e.reason() : null,
                            null, null, null, null));
                    openByReplica.put(e.replica(), all.size() - 1);
                }
                case "STARTED" -> {
                    if (open != null && all.get(open).startedAt() == null && e.workerId().equals(all.get(open).workerId())) {
                        all.set(open, all.get(open).started(e.at()));
                    }
                }
                case "REPLICA_FINISHED" -> {
                    int i = find(all, e);
                    if (i >= 0 && all.get(i).outcome() == null) {
                        all.set(i, all.get(i).end(e.at(), e.reason() == null ? "FINISHED" : e.reason(), null));
                    }
                }
                default -> {
                }
            }
        }
        return all;
    }

    /** The latest execution of the event's replica, attempt and worker. */
    private static int find(List<Execution> all, Event e) {
        for (int i = all.size() - 1; i >= 0; i--) {
            Execution x = all.get(i);
            if (x.replica() == e.replica() && x.attempt() == e.attempt() && x.workerId().equals(e.workerId())) {
                return i;
            }
        }
        return -1;
    }
}
