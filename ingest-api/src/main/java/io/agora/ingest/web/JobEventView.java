package io.agora.ingest.web;

import io.agora.events.JobEvent;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;

import java.time.Instant;

/** A JobEvent as sent on the SSE stream. */
@Serdeable
public record JobEventView(String eventId, String jobId, String type, @Nullable String reason, @Nullable String workerId,
                           int replica, int attempt, @Nullable String pool, long escrowMicros, Instant timestamp) {
    static JobEventView of(JobEvent e) {
        return new JobEventView(e.getEventId(), e.getJobId(), e.getType().name(), e.getReason(), e.getWorkerId(),
                e.getReplica(), e.getAttempt(), e.getPool(), e.getEscrowMicros(), e.getTimestamp());
    }

}
