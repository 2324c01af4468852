package io.agora.ingest.market;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import io.swagger.v3.oas.annotations.media.Schema;

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
                      @Nullable String dispute,
                      @Schema(description = "What costMicros paid for, per resource; absent until the job has a cost")
                      @Nullable CostBreakdown costBreakdown) {

    private static final List<String> TERMINAL = List.of("COMPLETED", "FAILED", "NO_CONSENSUS", "EXPIRED",
            "CANCELLED", "REJECTED");

    public static JobView submitted(String jobId, String clientId, String pool, Instant at) {
        return new JobView(jobId, clientId, pool, "submitted", null, null, null, null, null, null, null, null,
                List.of(), List.of(), at, at, null, null);
    }

    /** The verdict's cost split by resource: GPU-seconds, memory GiB-seconds, and the rest of the cost, CPU-seconds. */
    @Serdeable
    @Schema(description = "The job's cost by resource, in micro-credits; the three parts sum to costMicros")
    public record CostBreakdown(@Schema(description = "Paid for CPU-seconds") long cpuMicros,
                                @Schema(description = "Paid for GPU-seconds") long gpuMicros,
                                @Schema(description = "Paid for memory GiB-seconds") long memoryMicros) {
        /** Null when the job has no cost yet. */
        public static @Nullable CostBreakdown of(@Nullable Long costMicros, long gpuMicros, long memoryMicros) {
            return costMicros == null ? null : new CostBreakdown(costMicros - gpuMicros - memoryMicros, gpuMicros, memoryMicros);
        }
    }

    public boolean terminal() {
        return isTerminal(status);
    }

    /**
     * Whether nothing more will happen to the job: terminal, and no dispute of it open (an opened
     * dispute is decided by a later JobEvent DISPUTED, {@link #decidesDispute}).
     */
    public boolean over() {
        return terminal() && !"opened".equals(dispute);
    }

    /** Whether a JobEvent decides its job's open dispute: DISPUTED "overturned: ..." or "upheld" (a refusal does not). */
    public static boolean decidesDispute(String eventType, @Nullable String reason) {
        return "DISPUTED".equals(eventType) && reason != null
                && (reason.startsWith("overturned") || reason.startsWith("upheld"));
    }

    /** Whether a job status, or the type of a JobEvent, ends the job's story. */
    public static boolean isTerminal(@Nullable String statusOrEventType) {
        return statusOrEventType != null && TERMINAL.contains(statusOrEventType.toUpperCase(java.util.Locale.ROOT));
    }
}
