package io.agora.ledger;

import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Outage;
import io.agora.schemas.TopicSpec;
import io.agora.schemas.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Decodes the values of the four topics the sink reads, one deserializer per topic. The sink
 * consumes bytes and decodes here, so one record that does not decode is a DLQ record, not a
 * consumer that cannot make progress; a registry outage is not the record's fault and is
 * reported apart, so the sink retries instead.
 */
public final class EventDecoder {
    /** The topics the sink projects, in the order it subscribes to them. */
    public static final List<TopicSpec<String, ? extends SpecificRecord>> TOPICS =
            List.of(Topics.LEDGER, Topics.JOB_EVENTS, Topics.VERDICTS, Topics.REPUTATION);

    private final Map<String, Deserializer<? extends SpecificRecord>> byTopic = new HashMap<>();

    public EventDecoder(AgoraSerdes serdes) {
        for (TopicSpec<String, ? extends SpecificRecord> t : TOPICS) {
            byTopic.put(t.name(), serdes.valueSerde(t).deserializer());
        }
    }

    public static List<String> topicNames() {
        return TOPICS.stream().map(TopicSpec::name).toList();
    }

    /**
     * The decoded event; throws {@link UndecodableRecord} with the reason for anything unusable,
     * and {@link RegistryOutage} when the registry cannot be asked (see {@link Outage}).
     */
    public SpecificRecord decode(String topic, byte[] value) {
        Deserializer<? extends SpecificRecord> de = byTopic.get(topic);
        if (de == null) {
            throw new UndecodableRecord("the ledger sink does not read topic " + topic);
        }
        if (value == null) {
            throw new UndecodableRecord("null value (tombstone) on " + topic);
        }
        try {
            SpecificRecord event = de.deserialize(topic, value);
            if (event == null) {
                throw new UndecodableRecord("value decoded to null on " + topic);
            }
            return event;
        } catch (UndecodableRecord e) {
            throw e;
        } catch (RuntimeException e) {
            Optional<String> outage = Outage.of(e);
            if (outage.isPresent()) {
                throw new RegistryOutage(outage.get(), e);
            }
            throw new UndecodableRecord("cannot decode " + topic + " value: " + e.getMessage());
        }
    }

    /**
     * The record could not be decoded because the schema registry (or the network to it) is out:
     * not the record's fault, so it is retried, never dead-lettered.
     */
    public static final class RegistryOutage extends RuntimeException {
        public RegistryOutage(String reason, Throwable cause) {
            super(reason, cause);
        }
    }

    /** A record whose bytes are not an event of its topic. */
    public static final class UndecodableRecord extends RuntimeException {
        public UndecodableRecord(String reason) {
            super(reason);
        }
    }
}
