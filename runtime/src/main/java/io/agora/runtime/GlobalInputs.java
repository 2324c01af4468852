package io.agora.runtime;

import io.agora.schemas.Outage;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The value serde of a global store's source topic. Kafka Streams (4.3) cannot run the
 * dead-letter deserialization handler on a global thread (it casts the global context to a
 * record collector and the whole client shuts down), so one unreadable record on a topic a
 * global store copies — garbage on the ledger topic, say — would stop the app. A global copy
 * skips what it cannot read instead (logged with the reason; the topic's owner dead-letters the
 * record, e.g. the ledger sink for the ledger topic); an outage (registry unreachable) is still
 * thrown, as everywhere, so it is retried and never taken for a bad record.
 */
public final class GlobalInputs {
    private static final Logger log = LoggerFactory.getLogger(GlobalInputs.class);

    private GlobalInputs() {
    }

    /** {@code serde} whose deserializer turns an unreadable record into {@code null} (skipped by the store's processor). */
    public static <T> Serde<T> skippingUnreadable(Serde<T> serde) {
        Deserializer<T> inner = serde.deserializer();
        Deserializer<T> lenient = (topic, data) -> {
            try {
                return inner.deserialize(topic, data);
            } catch (RuntimeException e) {
                if (Outage.isOutage(e)) {
                    throw e;
                }
                log.warn("global store skips an unreadable record of {}: {}", topic, e.toString());
                return null;
            }
        };
        return Serdes.serdeFrom(serde.serializer(), lenient);
    }
}
