package io.agora.schemas;

import io.apicurio.registry.resolver.strategy.ArtifactReference;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The registry serdes without their per-record cost. Apicurio's Avro serializer renders the
 * record's schema as JSON on every record (to look its id up by content) and its deserializer
 * builds a new resolving reader for every record; under a saturated bench that was about a sixth
 * of the matcher's CPU. Here the Confluent wire format ({@code 00}, 4-byte content id, Avro binary)
 * is written and read directly once Apicurio has resolved the id:
 * <ul>
 *   <li>writing, the first record of a topic (and again every {@link #REFRESH_MS}, so a newer
 *   registered version or a registry outage is met as before) goes through Apicurio; its prefix is
 *   kept for that topic and record schema when encoding the same record directly gives exactly
 *   Apicurio's bytes;</li>
 *   <li>reading, a content id seen for the first time goes through Apicurio; a reader from the
 *   id's schema to the class Apicurio decoded into is kept (an id's content never changes) when
 *   it decodes those bytes to an equal record.</li>
 * </ul>
 * A check that fails leaves the id to Apicurio, record by record. A record without the header, and a
 * schema id the registry does not know, are judged by {@link UnknownSchemaIds}.
 */
final class RegistryCodec {
    /** How long a topic's resolved writer id is used before Apicurio resolves it again. */
    static final long REFRESH_MS = 30_000;

    private RegistryCodec() {
    }

    private static final ThreadLocal<BinaryEncoder> ENCODER = new ThreadLocal<>();
    private static final ThreadLocal<BinaryDecoder> DECODER = new ThreadLocal<>();

    static final class Writer<V extends SpecificRecord> implements Serializer<V> {
        private record Resolved(Schema schema, byte[] prefix, SpecificDatumWriter<SpecificRecord> writer, long at) {
        }

        private final AvroKafkaSerializer<V> apicurio;
        private final Map<String, Resolved> topics = new ConcurrentHashMap<>();

        Writer(AvroKafkaSerializer<V> apicurio) {
            this.apicurio = apicurio;
        }

        @Override
        public void configure(Map<String, ?> configs, boolean isKey) {
            apicurio.configure(configs, isKey);
        }

        @Override
        public byte[] serialize(String topic, V data) {
            return serialize(topic, null, data);
        }

        @Override
        public byte[] serialize(String topic, Headers headers, V data) {
            if (data == null) {
                return null;
            }
            Resolved r = topics.get(topic);
            long now = System.currentTimeMillis();
            if (r != null && r.schema == data.getSchema() && now - r.at < REFRESH_MS) {
                return encode(r.prefix, r.writer, data);
            }
            byte[] bytes = headers == null ? apicurio.serialize(topic, data) : apicurio.serialize(topic, headers, data);
            if (bytes != null && bytes.length > 5 && bytes[0] == 0) {
                byte[] prefix = Arrays.copyOf(bytes, 5);
                SpecificDatumWriter<SpecificRecord> writer = r != null && r.schema == data.getSchema()
                        ? r.writer : new SpecificDatumWriter<>(data.getSchema());
                if (Arrays.equals(encode(prefix, writer, data), bytes)) {
                    topics.put(topic, new Resolved(data.getSchema(), prefix, writer, now));
                } else {
                    topics.remove(topic);
                }
            }
            return bytes;
        }

        @Override
        public void close() {
            apicurio.close();
        }
    }

    static final class Reader<V extends SpecificRecord> implements Deserializer<V> {
        /** Marks a content id whose direct read did not match Apicurio's. */
        private static final DatumReader<SpecificRecord> APICURIO_ONLY = new SpecificDatumReader<>();

        private final AvroKafkaDeserializer<V> apicurio;
        private final Map<Integer, DatumReader<SpecificRecord>> ids = new ConcurrentHashMap<>();
        private final UnknownSchemaIds unknownIds = new UnknownSchemaIds(UnknownSchemaIds.GRACE_MS);

        Reader(AvroKafkaDeserializer<V> apicurio) {
            this.apicurio = apicurio;
        }

        @Override
        public void configure(Map<String, ?> configs, boolean isKey) {
            apicurio.configure(configs, isKey);
        }

        @Override
        public V deserialize(String topic, byte[] data) {
            return deserialize(topic, null, data);
        }

        @Override
        @SuppressWarnings("unchecked")
        public V deserialize(String topic, Headers headers, byte[] data) {
            if (data == null) {
                return null;
            }
            String problem = UnknownSchemaIds.headerProblem(data);
            int id = problem == null ? UnknownSchemaIds.id(data) : 0;
            problem = problem == null ? UnknownSchemaIds.idProblem(id) : problem;
            if (problem != null) {
                throw new SerializationException(problem + " on " + topic);
            }
            DatumReader<SpecificRecord> reader = ids.get(id);
            if (reader != null && reader != APICURIO_ONLY) {
                return (V) decode(reader, data, topic);
            }
            V v;
            try {
                v = headers == null ? apicurio.deserialize(topic, data) : apicurio.deserialize(topic, headers, data);
            } catch (RuntimeException e) {
                throw unknownIds.judge(id, e, System.currentTimeMillis());
            }
            unknownIds.known(id);
            if (reader == null && v != null) {
                ids.put(id, readerMatching(id, v, data, topic));
            }
            return v;
        }

        private DatumReader<SpecificRecord> readerMatching(int id, V decoded, byte[] data, String topic) {
            try {
                Schema written = apicurio.getSchemaResolver()
                        .resolveSchemaByArtifactReference(ArtifactReference.builder().contentId((long) id).build())
                        .getParsedSchema().getParsedSchema();
                DatumReader<SpecificRecord> reader = new SpecificDatumReader<>(written, decoded.getSchema());
                return decoded.equals(decode(reader, data, topic)) ? reader : APICURIO_ONLY;
            } catch (RuntimeException e) {
                return APICURIO_ONLY;
            }
        }

        @Override
        public void close() {
            apicurio.close();
        }
    }

    private static byte[] encode(byte[] prefix, SpecificDatumWriter<SpecificRecord> writer, SpecificRecord data) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(256);
            out.write(prefix);
            BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, ENCODER.get());
            ENCODER.set(enc);
            writer.write(data, enc);
            enc.flush();
            return out.toByteArray();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot encode " + data.getClass().getSimpleName(), e);
        }
    }

    private static SpecificRecord decode(DatumReader<SpecificRecord> reader, byte[] data, String topic) {
        try {
            BinaryDecoder dec = DecoderFactory.get().binaryDecoder(data, 5, data.length - 5, DECODER.get());
            DECODER.set(dec);
            return reader.read(null, dec);
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot decode record on " + topic + ": " + e.getMessage(), e);
        }
    }
}
