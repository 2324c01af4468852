package io.agora.runtime;

import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.TopicSpec;
import io.agora.schemas.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How a streams app emits to several of the market's topics: its processors forward an emission
 * (the topic, the record, for a task its explicit partition, for the DLQ the raw bytes; the record's
 * headers travel on the streams record) and {@link #to} writes them all through one sink, with the
 * value serde of the topic from the catalogue ({@link Topics}, so with the registry in production).
 * The matcher and the verifier both emit this way.
 */
public interface Emission {
    /** The topic's name, from {@link Topics}. */
    String topic();

    /** The record, null for a dead letter. */
    SpecificRecord value();

    /** A dead letter's bytes, written untouched (DLQ only); null otherwise. */
    byte[] raw();

    /** The explicit partition (task topic only: the worker's), null for the key's partition. */
    Integer partition();

    /** A record for a topic, to the key's partition. */
    static Emission of(String topic, SpecificRecord value) {
        return new Of(topic, value, null, null);
    }

    /** A dead letter: {@code raw} to {@link Topics#DLQ} untouched. */
    static Emission deadLetter(byte[] raw) {
        return new Of(Topics.DLQ.name(), null, raw, null);
    }

    /** The plain emission. */
    record Of(String topic, SpecificRecord value, byte[] raw, Integer partition) implements Emission {
    }

    /** Writes every value of {@code stream} (each an emission) to its topic, through one sink named {@code name}. */
    static <V> void to(KStream<String, V> stream, AgoraSerdes serdes, String name) {
        stream.to((k, v, ctx) -> ((Emission) v).topic(),
                Produced.with(serdes.keySerde(), Emission.<V>serde(serdes), Emission.<V>partitioner()).withName(name));
    }

    /** The value serde of the sink: each emission with its topic's serde, a dead letter as its bytes; never read. */
    static <V> Serde<V> serde(AgoraSerdes serdes) {
        Map<String, Serializer<SpecificRecord>> byTopic = new HashMap<>();
        for (TopicSpec<?, ?> t : Topics.all()) {
            if (t.valueType() != byte[].class) {
                @SuppressWarnings("unchecked")
                Serializer<SpecificRecord> s = (Serializer<SpecificRecord>) serdes.valueSerde(t).serializer();
                byTopic.put(t.name(), s);
            }
        }
        Serializer<V> ser = (topic, v) -> {
            if (!(v instanceof Emission e)) {
                throw new SerializationException("not an emission: " + v);
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
        Deserializer<V> de = (topic, data) -> {
            throw new UnsupportedOperationException("emissions are written, never read");
        };
        return Serdes.serdeFrom(ser, de);
    }

    /** An explicit partition if the topic has it; else (and for every other emission) the key's default partition. */
    static <V> StreamPartitioner<String, V> partitioner() {
        return (topic, key, value, numPartitions) -> {
            if (value instanceof Emission e && e.partition() != null) {
                if (e.partition() >= 0 && e.partition() < numPartitions) {
                    return Optional.of(Set.of(e.partition()));
                }
                // never from a checked heartbeat; a worker state kept before the gate checked partitions:
                // the worker hands the task back (misrouted) rather than the app stopping on it
                LoggerFactory.getLogger(Emission.class).warn("{} for {} names partition {} of {}: sent to the key's partition",
                        topic, key, e.partition(), numPartitions);
            }
            return Optional.empty();
        };
    }
}
