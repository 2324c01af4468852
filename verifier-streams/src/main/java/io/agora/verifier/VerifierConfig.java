package io.agora.verifier;

import io.agora.schemas.AgoraConfig;

import java.time.Duration;

/**
 * Typed configuration of the verifier, read from {@code agora.verifier.*} keys (environment
 * {@code AGORA_VERIFIER_*}).
 *
 * @param repAgree              reputation of a worker whose vote matches the consensus ({@code agora.verifier.rep.agree}, +5)
 * @param repDissent            reputation of a worker whose vote differs from it ({@code agora.verifier.rep.dissent}, -10)
 * @param repFailed             reputation of a failed replica: IMAGE_MISSING, SANDBOX_ERROR, and a TIMEOUT or
 *                              OUT_OF_MEMORY/OUTPUT_OVER_CAPS that dissents from the consensus ({@code agora.verifier.rep.failed}, -5). The -20 for an
 *                              expired lease is the matcher's, not ours.
 * @param weightedThreshold     REPUTATION_WEIGHTED: the trust weight of the agreeing workers must exceed this
 *                              share of the total trust weight of all votes cast ({@code agora.verifier.weighted.threshold}, 0.5)
 * @param trustScale            a worker's trust weight is {@code max(minTrustWeight, 1 + reputation / trustScale)}:
 *                              a newcomer (reputation 0) weighs 1, +100 weighs 2 ({@code agora.verifier.trust.scale}, 100)
 * @param minTrustWeight        floor of the trust weight, so that a vote always counts a little ({@code agora.verifier.trust.min.weight}, 0.1)
 * @param adaptiveMinAgreements ADAPTIVE: agreeing verdicts a worker needs before its single result is trusted
 *                              ({@code agora.verifier.adaptive.min.agreements}, 20)
 * @param adaptiveMinReputation ADAPTIVE: reputation it needs too ({@code agora.verifier.adaptive.min.reputation}, 100)
 * @param adaptiveFallbackQuorum ADAPTIVE: agreeing results needed when the first worker is not trusted
 *                              ({@code agora.verifier.adaptive.fallback.quorum}, 2)
 * @param disputeWindow         how long after a COMPLETED verdict a client may dispute it ({@code agora.verifier.dispute.window.ms}, 1 h)
 * @param orphanTimeout         how long a result waits for the TaskAssigned it answers before going to the DLQ as
 *                              {@code unknown task} ({@code agora.verifier.orphan.timeout.ms}, 60 s)
 * @param pendingCancelTtl      how long a CANCEL for a job never assigned is remembered ({@code agora.verifier.cancel.ttl.ms}, 1 day)
 * @param punctuateInterval     wall-clock period of the deadline and orphan sweeps ({@code agora.verifier.punctuate.ms}, 1000 ms)
 * @param retention             how long a decided job's state (the job, its tasks and results) is kept after its deadline,
 *                              for late results and duplicate commands ({@code agora.verifier.retention.ms}, 7 days); after it
 *                              a late result is an {@code unknown task} in the DLQ and a command finds no job
 */
public record VerifierConfig(int repAgree, int repDissent, int repFailed,
                             double weightedThreshold, double trustScale, double minTrustWeight,
                             int adaptiveMinAgreements, long adaptiveMinReputation, int adaptiveFallbackQuorum,
                             Duration disputeWindow, Duration orphanTimeout, Duration pendingCancelTtl,
                             Duration punctuateInterval, Duration retention) {

    public static final String APP_ID = "agora-verifier";

    public VerifierConfig {
        if (weightedThreshold <= 0 || weightedThreshold >= 1) {
            throw new IllegalArgumentException("agora.verifier.weighted.threshold must be in (0, 1): " + weightedThreshold);
        }
        if (trustScale <= 0) {
            throw new IllegalArgumentException("agora.verifier.trust.scale must be > 0: " + trustScale);
        }
        if (adaptiveFallbackQuorum < 1) {
            throw new IllegalArgumentException("agora.verifier.adaptive.fallback.quorum must be >= 1");
        }
        if (retention.isNegative()) {
            throw new IllegalArgumentException("agora.verifier.retention.ms must be >= 0");
        }
        if (punctuateInterval.toMillis() < 1) {
            throw new IllegalArgumentException("agora.verifier.punctuate.ms must be >= 1");
        }
    }

    public static VerifierConfig defaults() {
        return from(AgoraConfig.of(java.util.Map.of()));
    }

    public static VerifierConfig from(AgoraConfig c) {
        return new VerifierConfig(
                c.getInt("agora.verifier.rep.agree", 5),
                c.getInt("agora.verifier.rep.dissent", -10),
                c.getInt("agora.verifier.rep.failed", -5),
                c.getDouble("agora.verifier.weighted.threshold", 0.5),
                c.getDouble("agora.verifier.trust.scale", 100.0),
                c.getDouble("agora.verifier.trust.min.weight", 0.1),
                c.getInt("agora.verifier.adaptive.min.agreements", 20),
                c.getLong("agora.verifier.adaptive.min.reputation", 100),
                c.getInt("agora.verifier.adaptive.fallback.quorum", 2),
                Duration.ofMillis(c.getLong("agora.verifier.dispute.window.ms", 3_600_000L)),
                Duration.ofMillis(c.getLong("agora.verifier.orphan.timeout.ms", 60_000L)),
                Duration.ofMillis(c.getLong("agora.verifier.cancel.ttl.ms", 86_400_000L)),
                Duration.ofMillis(c.getLong("agora.verifier.punctuate.ms", 1_000L)),
                Duration.ofMillis(c.getLong("agora.verifier.retention.ms", 7L * 24 * 3_600_000L)));
    }
}
