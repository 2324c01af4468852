package io.agora.verifier;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

import java.nio.ByteBuffer;

/**
 * What the market knows of one worker's record, as the verifier sees it: the sum of every
 * reputation delta on {@code agora.workers.reputation} (from the verifier and the matcher; a
 * newcomer starts at 0) and how many times its vote agreed with a consensus.
 */
public record WorkerStanding(long reputation, long agreements) {
    public static final WorkerStanding NEWCOMER = new WorkerStanding(0, 0);

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

    public static Serde<WorkerStanding> serde() {
        Serializer<WorkerStanding> ser = (topic, s) -> s == null ? null
                : ByteBuffer.allocate(16).putLong(s.reputation).putLong(s.agreements).array();
        Deserializer<WorkerStanding> de = (topic, b) -> {
            if (b == null) {
                return null;
            }
            ByteBuffer buf = ByteBuffer.wrap(b);
            return new WorkerStanding(buf.getLong(), buf.getLong());
        };
        return Serdes.serdeFrom(ser, de);
    }
}
