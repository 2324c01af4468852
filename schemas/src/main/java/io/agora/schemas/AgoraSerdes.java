package io.agora.schemas;

import io.apicurio.registry.resolver.SchemaResolverConfig;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Builds the serdes of the catalogue's topics from configuration passed in, never from
 * static state.
 * <ul>
 *   <li>With a registry URL the values go through Apicurio Registry in the Confluent wire
 *   format (magic byte + 4-byte content id), auto-registering {@code <topic>-value}.</li>
 *   <li>With {@link #plain()} the values are Avro single-object encoded (header with the writer
 *   schema's fingerprint, then the binary; earlier schemas from {@link SchemaHistory}): the
 *   streams apps' state stores and internal topics, and TopologyTestDriver and rule tests, which
 *   have no registry.</li>
 * </ul>
 */
public final class AgoraSerdes {
    private static final Map<Class<?>, Serde<?>> PLAIN_SERDES = new java.util.concurrent.ConcurrentHashMap<>();
    /** Whether serializers register a missing schema ({@code AGORA_REGISTRY_AUTO_REGISTER}, default true). */
    public static final String AUTO_REGISTER = "agora.registry.auto.register";
    /** HTTP Basic credentials for the registry's gate ({@code AGORA_REGISTRY_USERNAME}, {@code _PASSWORD}). */
    public static final String USERNAME = "agora.registry.username";
    public static final String PASSWORD = "agora.registry.password";

    private final String registryUrl;
    private final boolean autoRegister;
    private final String username;
    private final String password;

    private AgoraSerdes(String registryUrl, boolean autoRegister, String username, String password) {
        this.registryUrl = registryUrl;
        this.autoRegister = autoRegister;
        this.username = username;
        this.password = password;
    }

    /** Serdes talking to the registry at e.g. {@code http://localhost:8081/apis/registry/v2}. */
    public static AgoraSerdes registry(String registryUrl) {
        return new AgoraSerdes(registryUrl, true, null, null);
    }

    /** Registry-less Avro binary serdes, for tests that have no registry. */
    public static AgoraSerdes plain() {
        return new AgoraSerdes(null, true, null, null);
    }

    /**
     * The serdes of {@code cfg}: its registry URL; {@value #AUTO_REGISTER} false makes serializers only
     * look schemas up (the registry's gate refuses writes without a writer's credentials, see
     * {@link RegistryGate}); {@value #USERNAME} and {@value #PASSWORD} are sent with every call.
     */
    public static AgoraSerdes fromConfig(AgoraConfigView cfg) {
        AgoraSerdes s = forRegistryUrl(cfg.registryUrl());
        if (!s.usesRegistry()) {
            return s;
        }
        return new AgoraSerdes(s.registryUrl, !"false".equalsIgnoreCase(cfg.find(AUTO_REGISTER).orElse("true").strip()),
                cfg.find(USERNAME).filter(u -> !u.isBlank()).orElse(null), cfg.find(PASSWORD).orElse(null));
    }

    /** The same serdes, registering missing schemas or only looking them up. */
    public AgoraSerdes withAutoRegister(boolean on) {
        return new AgoraSerdes(registryUrl, on, username, password);
    }

    /** The same serdes, authenticating to the registry with HTTP Basic credentials. */
    public AgoraSerdes withCredentials(String user, String pass) {
        return new AgoraSerdes(registryUrl, autoRegister, user, pass);
    }

    /** Registry serdes for a URL; blank or {@code plain} means registry-less (tests only). */
    public static AgoraSerdes forRegistryUrl(String url) {
        return url == null || url.isBlank() || url.equals("plain") ? plain() : registry(url);
    }

    public boolean usesRegistry() {
        return registryUrl != null;
    }

    /** The Apicurio serde properties; also usable as producer/consumer properties. */
    public Map<String, Object> registryProperties() {
        Map<String, Object> p = new HashMap<>();
        p.put("apicurio.registry.url", registryUrl);
        p.put("apicurio.registry.auto-register", Boolean.toString(autoRegister));
        if (username != null) {
            p.put("apicurio.auth.username", username);
            p.put("apicurio.auth.password", password == null ? "" : password);
        }
        p.put("apicurio.registry.find-latest", "true");
        p.put("apicurio.registry.use-specific-avro-reader", "true");
        p.put("apicurio.registry.headers.enabled", "false");
        p.put("apicurio.registry.as-confluent", "true");
        p.put("apicurio.registry.use-id", "contentId");
        // A cached schema expires after apicurio.registry.check-period-ms (30 s); without this, every
        // lookup after that fails while the registry is out, and a streams app's thread dies on its
        // next record (exactly-once: its tasks' state wiped and restored; chaos saw minutes of
        // stall). A schema id's content never changes, so the cached one is kept until the refresh works.
        p.put(SchemaResolverConfig.FAULT_TOLERANT_REFRESH, "true");
        return p;
    }

    public Serde<String> keySerde() {
        return Serdes.String();
    }

    /** The value serde of a catalogue topic. */
    @SuppressWarnings("unchecked")
    public <V> Serde<V> valueSerde(TopicSpec<?, V> topic) {
        if (topic.valueType() == byte[].class) {
            return (Serde<V>) Serdes.ByteArray();
        }
        return (Serde<V>) avroSerde((Class<? extends SpecificRecord>) topic.valueType());
    }

    /**
     * The value serde of a record type (registry serdes read and write the wire format directly
     * once Apicurio has resolved a schema, {@link RegistryCodec}). Plain serdes hold no configuration and are safe to share,
     * so there is one per type (building one resolves the type's schema history): code that
     * encodes events embedded in its own records may ask for it per record.
     */
    @SuppressWarnings("unchecked")
    public <V extends SpecificRecord> Serde<V> avroSerde(Class<V> type) {
        if (registryUrl == null) {
            return (Serde<V>) PLAIN_SERDES.computeIfAbsent(type,
                    t -> Serdes.serdeFrom(new PlainSerializer<>(), new PlainDeserializer<>((Class<V>) t)));
        }
        AvroKafkaSerializer<V> ser = new AvroKafkaSerializer<>();
        AvroKafkaDeserializer<V> de = new AvroKafkaDeserializer<>();
        Map<String, Object> props = registryProperties();
        ser.configure(props, false);
        de.configure(props, false);
        return Serdes.serdeFrom(new RegistryCodec.Writer<>(ser), new RegistryCodec.Reader<>(de));
    }

    /** Whether {@code b} starts with Avro's single-object header ({@code C3 01}, then an 8-byte fingerprint). */
    public static boolean singleObject(byte[] b) {
        return b.length >= 10 && b[0] == (byte) 0xC3 && b[1] == (byte) 0x01;
    }

    /**
     * Avro without a registry: single-object encoding ({@code C3 01}, the writer schema's 64-bit
     * fingerprint, then the binary), so that a later build with a changed schema still reads it.
     */
    static final class PlainSerializer<V extends SpecificRecord> implements Serializer<V> {
        private final Map<Class<?>, BinaryMessageEncoder<V>> encoders = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        @SuppressWarnings("unchecked")
        public byte[] serialize(String topic, V data) {
            if (data == null) {
                return null;
            }
            try {
                BinaryMessageEncoder<V> enc = encoders.computeIfAbsent(data.getClass(),
                        c -> new BinaryMessageEncoder<>(SpecificData.getForClass((Class<V>) c), data.getSchema()));
                ByteArrayOutputStream out = new ByteArrayOutputStream(256);
                enc.encode(data, out);
                return out.toByteArray();
            } catch (IOException | RuntimeException e) {
                throw new SerializationException("cannot encode " + data.getClass().getSimpleName(), e);
            }
        }
    }

    /**
     * Reads {@link PlainSerializer}'s records written with the current schema or any earlier one
     * of {@link SchemaHistory}, and bare binary written before the header existed (with the
     * record's {@link SchemaHistory#headerless} schema); throws SerializationException on bytes
     * that do not decode.
     */
    static final class PlainDeserializer<V extends SpecificRecord> implements Deserializer<V> {
        private final BinaryMessageDecoder<V> decoder;
        private final SpecificDatumReader<V> headerless;

        PlainDeserializer(Class<V> type) {
            SpecificData model = SpecificData.getForClass(type);
            Schema current = model.getSchema(type);
            this.decoder = new BinaryMessageDecoder<>(model, current);
            for (Schema earlier : SchemaHistory.of(current.getFullName())) {
                decoder.addSchema(earlier);
            }
            this.headerless = new SpecificDatumReader<>(SchemaHistory.headerless(current), current, model);
        }

        @Override
        public V deserialize(String topic, byte[] data) {
            if (data == null) {
                return null;
            }
            try {
                if (singleObject(data)) {
                    return decoder.decode(data);
                }
                BinaryDecoder dec = DecoderFactory.get().binaryDecoder(data, null);
                V v = headerless.read(null, dec);
                if (!dec.isEnd()) {
                    throw new SerializationException("trailing bytes after record on " + topic);
                }
                return v;
            } catch (IOException | RuntimeException e) {
                throw new SerializationException("cannot decode record on " + topic + ": " + e.getMessage(), e);
            }
        }
    }
}
