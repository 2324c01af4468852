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
                      @Nullable CostBreakdown costBreakdown,
                      @Schema(description = "The job's verdict history, oldest first: its verdict, then its dispute opened and"
                              + " decided (overturned or upheld); empty before the verdict and in listings")
                      List<VerdictStep> verdicts) {

    private static final List<String> TERMINAL = List.of("COMPLETED", "FAILED", "NO_CONSENSUS", "EXPIRED",
            "CANCELLED", "REJECTED");

    public static JobView submitted(String jobId, String clientId, String pool, Instant at) {
        return new JobView(jobId, clientId, pool, "submitted", null, null, null, null, null, null, null, null,
                List.of(), List.of(), at, at, null, null, List.of());
    }

    /** This view with its verdict history. */
    public JobView withVerdicts(List<VerdictStep> history) {
        return new JobView(jobId, clientId, pool, status, reason, outcome, output, consensusHash, exitCode, escrowMicros,
                costMicros, refundMicros, agreeing, dissenting, submittedAt, updatedAt, dispute, costBreakdown, List.copyOf(history));
    }

    /**
     * One step of a job's verdict history: the market's verdict, then the client's dispute of it opened and
     * decided. A dispute that overturns the verdict names the hash its replicas agreed on, which replaces the
     * verdict's; the job's status stays the verdict's outcome (the money moved is in its receipts).
     */
    @Serdeable
    @Schema(description = "One step of the job's verdict history")
    public record VerdictStep(@Schema(description = "verdict, dispute opened, dispute overturned or dispute upheld") String step,
                              @Schema(description = "The verdict's outcome (the verdict step only)") @Nullable String outcome,
                              @Schema(description = "The verdict's agreed hash; for a decided dispute, the hash it settled on")
                              @Nullable String consensusHash,
                              @Nullable String reason,
                              Instant at) {
        public static VerdictStep verdict(String outcome, @Nullable String consensusHash, @Nullable String reason, Instant at) {
            return new VerdictStep("verdict", outcome, consensusHash, reason, at);
        }

        /**
         * The step a JobEvent DISPUTED makes (its reason starts with what happened: opened, overturned, upheld);
         * empty for a refused dispute, which leaves the history as it was.
         */
        public static java.util.Optional<VerdictStep> dispute(@Nullable String reason, @Nullable String consensusHash, Instant at) {
            String word = reason == null ? "" : reason.split("[: ;]", 2)[0];
            if (!List.of("opened", "overturned", "upheld").contains(word)) {
                return java.util.Optional.empty();
            }
            return java.util.Optional.of(new VerdictStep("dispute " + word, null, consensusHash, reason, at));
        }
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
