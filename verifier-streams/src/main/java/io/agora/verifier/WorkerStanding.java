package io.agora.verifier;

import io.agora.events.state.VerifierStanding;
import io.agora.schemas.StateSerde;
import org.apache.kafka.common.serialization.Serde;

/**
 * What the market knows of one worker's record, as the verifier sees it: the sum of every
 * reputation delta on {@code agora.workers.reputation} (from the verifier and the matcher; a
 * newcomer starts at 0) and how many times its vote agreed with a consensus.
 */
public record WorkerStanding(long reputation, long agreements) {
    public static final WorkerStanding NEWCOMER = new WorkerStanding(0, 0);
    private static final Serde<WorkerStanding> SERDE = StateSerde.of(VerifierStanding.class,
            s -> new VerifierStanding(s.reputation, s.agreements),
            v -> new WorkerStanding(v.getReputation(), v.getAgreements()), LegacyStoreValues::standing);

    public WorkerStanding plus(int delta, boolean agreed) {
        return new WorkerStanding(reputation + delta, agreements + (agreed ? 1 : 0));
    }

    /** The weight of this worker's vote: {@code max(min, 1 + reputation / scale)}. */
    public double trustWeight(VerifierConfig cfg) {
        return Math.max(cfg.minTrustWeight(), 1.0 + reputation / cfg.trustScale());
    }

    /** ADAPTIVE: a long and clean record lets one result stand alone. */
    public boolean trusted(VerifierConfig cfg) {
        return agreements >= cfg.adaptiveMinAgreements() && reputation >= cfg.adaptiveMinReputation();
    }

    /**
     * The global store's serde: {@link VerifierStanding} records ({@code schemas/src/main/avro/verifier-state.avsc});
     * a value of the earlier binary format is read by {@link LegacyStoreValues#standing}.
     */
    public static Serde<WorkerStanding> serde() {
        return SERDE;
    }
}
