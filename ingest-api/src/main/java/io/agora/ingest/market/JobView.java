package io.agora.ingest.market;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;

import java.time.Instant;
import java.util.List;

/** A job as the client sees it, from the read model (or just "submitted" before the sink has it). */
@Serdeable
public record JobView(String jobId,
                      String clientId,
                      @Nullable String pool,
                      String status,
                      @Nullable String reason,
                      @Nullable String outcome,
                      @Nullable String output,
                      @Nullable String consensusHash,
                      @Nullable Integer exitCode,
                      @Nullable Long escrowMicros,
                      @Nullable Long costMicros,
                      @Nullable Long refundMicros,
                      List<String> agreeing,
                      List<String> dissenting,
                      @Nullable Instant submittedAt,
                      @Nullable Instant updatedAt,
                      @Nullable String dispute) {

    private static final List<String> TERMINAL = List.of("COMPLETED", "FAILED", "NO_CONSENSUS", "EXPIRED",
            "CANCELLED", "REJECTED");

    public static JobView submitted(String jobId, String clientId, String pool, Instant at) {
        return new JobView(jobId, clientId, pool, "submitted", null, null, null, null, null, null, null, null,
                List.of(), List.of(), at, at, null);
    }

    public boolean terminal() {
        return isTerminal(status);
    }

    /** Whether a job status, or the type of a JobEvent, ends the job's story. */
    public static boolean isTerminal(@Nullable String statusOrEventType) {
        return statusOrEventType != null && TERMINAL.contains(statusOrEventType.toUpperCase(java.util.Locale.ROOT));
    }
}
