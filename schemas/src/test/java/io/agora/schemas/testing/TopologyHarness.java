package io.agora.schemas.testing;

import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.TopicSpec;
import io.agora.schemas.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;

/**
 * One app's topology in a {@link TopologyTestDriver}, the way every topology test sets it up: the
 * app's id and a state directory of the test's, the driver's wall clock starting at {@code start},
 * input and output topics typed from the {@link Topics} catalogue with the app's serdes, and the
 * dead-letter topic read back as {@link DeadLetter}s with their reasons. Shipped in the schemas
 * test-jar, so each app's tests use it without depending on another app.
 */
public final class TopologyHarness implements AutoCloseable {
    private final TopologyTestDriver driver;
    private final AgoraSerdes serdes;
    private final TestOutputTopic<byte[], byte[]> dlq;

    public TopologyHarness(Topology topology, String appId, Path stateDir, Instant start, AgoraSerdes serdes) {
        this(topology, props(appId, stateDir), start, serdes);
    }

    /** With the properties the app runs with (its dead-letter handlers, its state directory). */
    public TopologyHarness(Topology topology, Properties props, Instant start, AgoraSerdes serdes) {
        this.driver = new TopologyTestDriver(topology, props, start);
        this.serdes = serdes;
        this.dlq = driver.createOutputTopic(Topics.DLQ.name(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static Properties props(String appId, Path stateDir) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        return p;
    }

    public TopologyTestDriver driver() {
        return driver;
    }

    public AgoraSerdes serdes() {
        return serdes;
    }

    public <V extends SpecificRecord> TestInputTopic<String, V> in(TopicSpec<String, V> topic) {
        return driver.createInputTopic(topic.name(), new StringSerializer(), serdes.valueSerde(topic).serializer());
    }

    public <V extends SpecificRecord> TestOutputTopic<String, V> out(TopicSpec<String, V> topic) {
        return driver.createOutputTopic(topic.name(), new StringDeserializer(), serdes.valueSerde(topic).deserializer());
    }

    /** The dead-letter topic as raw records (for a test that looks at more than the reasons). */
    public TestOutputTopic<byte[], byte[]> dlq() {
        return dlq;
    }

    /** Every dead letter written since the last read, oldest first. */
    public List<DeadLetter> deadLetters() {
        return dlq.readRecordsToList().stream().map(DeadLetter::of).toList();
    }

    /** The one dead letter written since the last read. */
    public DeadLetter deadLetter() {
        return DeadLetter.of(dlq.readRecord());
    }

    public void advance(Duration d) {
        driver.advanceWallClockTime(d);
    }

    @Override
    public void close() {
        driver.close();
    }

    /** A record the app could not process, with what its headers say about why and where from. */
    public record DeadLetter(String key, byte[] value, String reason, String topic, String app, Headers headers) {
        static DeadLetter of(TestRecord<byte[], byte[]> r) {
            return new DeadLetter(r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8), r.value(),
                    DeadLetters.header(r.headers(), DeadLetters.H_REASON), DeadLetters.header(r.headers(), DeadLetters.H_TOPIC),
                    DeadLetters.header(r.headers(), DeadLetters.H_APP), r.headers());
        }

        /** The original value, read with the serde of the topic it came from. */
        public <V> V value(AgoraSerdes serdes, TopicSpec<?, V> from) {
            return serdes.valueSerde(from).deserializer().deserialize(from.name(), value);
        }
    }
}
