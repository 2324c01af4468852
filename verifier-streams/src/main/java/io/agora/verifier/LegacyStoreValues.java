package io.agora.verifier;

import org.apache.kafka.common.errors.SerializationException;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * LEGACY, read-only: values of {@code verifier-orphans} and of the global store
 * {@code verifier-reputation} written by the hand-written framing of the builds before they became
 * Avro. Read once: an orphan is deleted when its task arrives or it times out, a standing is
 * rewritten as Avro by the worker's next reputation change. Delete this class when no store can hold
 * such a value any more (the orphan timeout has passed and every local reputation store was rebuilt
 * or rewritten).
 */
final class LegacyStoreValues {
    private LegacyStoreValues() {
    }

    /** {@code arrivedAt} (8 bytes, big-endian), then the TaskResult in plain Avro. */
    static Orphan orphan(byte[] b) {
        if (b.length < 9) {
            throw new SerializationException("not a legacy orphan: " + b.length + " bytes");
        }
        return new Orphan(ByteBuffer.wrap(b).getLong(),
                Orphan.RESULT.deserializer().deserialize(null, Arrays.copyOfRange(b, 8, b.length)));
    }

    /** {@code reputation} and {@code agreements}, 8 bytes each, big-endian. */
    static WorkerStanding standing(byte[] b) {
        if (b.length != 16) {
            throw new SerializationException("not a legacy worker standing: " + b.length + " bytes");
        }
        ByteBuffer buf = ByteBuffer.wrap(b);
        return new WorkerStanding(buf.getLong(), buf.getLong());
    }
}
