package io.agora.schemas;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

import java.util.function.Function;

/**
 * The serde of a streams app's state store (so of its changelog) or internal topic: the app keeps
 * its own model object in memory and stores it as an Avro record of {@code src/main/avro/*-state.avsc}
 * (namespace {@code io.agora.events.state}), plain single-object encoded ({@link AgoraSerdes#plain()}:
 * no registry, earlier schemas from {@link SchemaHistory}). The app converts model and record in one
 * place. The state schemas live here beside the events rather than in their apps so that one history
 * ({@code avro-history/index.txt}) and one fingerprint check ({@code SchemaHistoryTest}) cover every
 * plain record.
 *
 * <p>Upgrade in place: a value without the single-object header was written by the hand-written
 * binary codec of an earlier build (it starts with its version or tag byte, never {@code C3}); it is
 * read once by the app's {@code legacy} reader, and every write is Avro.
 */
public final class StateSerde {
    private StateSerde() {
    }

    /**
     * @param legacy reads a value of the earlier hand-written format (throws SerializationException
     *               on bytes it does not know); null when the value never had one
     */
    public static <M, A extends SpecificRecord> Serde<M> of(Class<A> type, Function<M, A> toAvro,
                                                            Function<A, M> fromAvro, Function<byte[], M> legacy) {
        Serde<A> avro = AgoraSerdes.plain().avroSerde(type);
        Serializer<A> ser = avro.serializer();
        Deserializer<A> de = avro.deserializer();
        Serializer<M> s = (topic, m) -> m == null ? null : ser.serialize(topic, toAvro.apply(m));
        Deserializer<M> d = (topic, b) -> {
            if (b == null) {
                return null;
            }
            if (AgoraSerdes.singleObject(b)) {
                return fromAvro.apply(de.deserialize(topic, b));
            }
            if (legacy == null) {
                throw new SerializationException("not a single-object encoded " + type.getSimpleName() + " on " + topic);
            }
            return legacy.apply(b);
        };
        return Serdes.serdeFrom(s, d);
    }
}
