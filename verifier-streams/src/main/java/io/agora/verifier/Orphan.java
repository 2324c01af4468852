package io.agora.verifier;

import io.agora.events.TaskResult;
import io.agora.events.state.VerifierOrphan;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.StateSerde;
import org.apache.kafka.common.serialization.Serde;

import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * A result that arrived before the TaskAssigned it answers (results and tasks travel on
 * different topics, the tasks through a repartition). It waits in store
 * {@code verifier-orphans} (key {@code <taskId>|<eventId>}) until its task arrives or the orphan
 * timeout sends it to the DLQ as {@code unknown task}. Stored as a {@link VerifierOrphan} record
 * ({@code schemas/src/main/avro/verifier-state.avsc}); a value of the earlier binary format is read
 * by {@link LegacyStoreValues#orphan}.
 */
record Orphan(long arrivedAt, TaskResult result) {
    static final Serde<TaskResult> RESULT = AgoraSerdes.plain().avroSerde(TaskResult.class);
    private static final Serde<Orphan> SERDE = StateSerde.of(VerifierOrphan.class,
            o -> new VerifierOrphan(o.arrivedAt, ByteBuffer.wrap(RESULT.serializer().serialize(null, o.result))),
            v -> new Orphan(v.getArrivedAt(), RESULT.deserializer().deserialize(null, JobState.bytes(v.getResult()))),
            LegacyStoreValues::orphan);

    /** Whether it has waited {@code timeout} for its task: then it goes to the DLQ. */
    boolean timedOut(long now, Duration timeout) {
        return now - arrivedAt >= timeout.toMillis();
    }

    static Serde<Orphan> serde() {
        return SERDE;
    }
}
