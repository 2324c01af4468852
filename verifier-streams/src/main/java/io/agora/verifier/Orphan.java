package io.agora.verifier;

import io.agora.events.TaskResult;
import io.agora.schemas.AgoraSerdes;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;

/**
 * A result that arrived before the TaskAssigned it answers (results and tasks travel on
 * different topics, the tasks through a repartition). It waits in store
 * {@code verifier-orphans} (key {@code <taskId>|<eventId>}) until its task arrives or the orphan
 * timeout sends it to the DLQ as {@code unknown task}.
 */
record Orphan(long arrivedAt, TaskResult result) {
    private static final Serde<TaskResult> RESULT = AgoraSerdes.plain().avroSerde(TaskResult.class);

    /** Whether it has waited {@code timeout} for its task: then it goes to the DLQ. */
    boolean timedOut(long now, Duration timeout) {
        return now - arrivedAt >= timeout.toMillis();
    }

    static Serde<Orphan> serde() {
        Serializer<Orphan> ser = (topic, o) -> {
            if (o == null) {
                return null;
            }
            byte[] r = RESULT.serializer().serialize(topic, o.result);
            return ByteBuffer.allocate(8 + r.length).putLong(o.arrivedAt).put(r).array();
        };
        Deserializer<Orphan> de = (topic, b) -> b == null ? null
                : new Orphan(ByteBuffer.wrap(b).getLong(), RESULT.deserializer().deserialize(topic, Arrays.copyOfRange(b, 8, b.length)));
        return Serdes.serdeFrom(ser, de);
    }
}
