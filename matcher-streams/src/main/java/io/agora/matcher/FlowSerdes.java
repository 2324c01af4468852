package io.agora.matcher;

import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.TopicSpec;
import io.agora.schemas.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

import java.util.HashMap;
import java.util.Map;

/**
 * Serdes of the matcher's own flows.
 * <ul>
 *   <li>{@link #emitSerializer}: writes an {@link Flow.Emit} with the value serde of its topic
 *   from the catalogue (so with the registry in production), or its raw bytes for the DLQ.</li>
 *   <li>{@link #poolEventSerde}: the internal repartition topic's format, plain Avro without the
 *   registry (the topic is internal to this app), see {@link StateSerdes}.</li>
 * </ul>
 */
public final class FlowSerdes {
    private FlowSerdes() {
    }

    public static Serializer<Flow> emitSerializer(AgoraSerdes serdes) {
        Map<String, Serializer<SpecificRecord>> byTopic = new HashMap<>();
        for (TopicSpec<?, ?> t : Topics.all()) {
            if (t.valueType() != byte[].class) {
                @SuppressWarnings("unchecked")
                Serializer<SpecificRecord> s = (Serializer<SpecificRecord>) serdes.valueSerde(t).serializer();
                byTopic.put(t.name(), s);
            }
        }
        return (topic, flow) -> {
            if (!(flow instanceof Flow.Emit e)) {
                throw new SerializationException("not an emit: " + flow);
            }
            if (e.raw() != null) {
                return e.raw();
            }
            Serializer<SpecificRecord> s = byTopic.get(topic);
            if (s == null) {
                throw new SerializationException("no serde for topic " + topic);
            }
            return s.serialize(topic, e.value());
        };
    }

    /** The repartition topic's format: {@link io.agora.events.state.PoolEvent} records ({@link StateSerdes}). */
    public static Serde<Flow.PoolEvent> poolEventSerde() {
        return StateSerdes.poolEvent();
    }
}
