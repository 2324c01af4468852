package io.agora.runtime;

import io.agora.schemas.Outage;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;

/**
 * The value serde of a global store's source topic. Kafka Streams (4.3) cannot run the
 * dead-letter deserialization handler on a global thread (it casts the global context to a
 * record collector and the whole client shuts down), so one unreadable record on a topic a
 * global store copies — garbage on the ledger topic, say — would stop the app. A global copy
 * skips what it cannot read instead (logged with the reason; the topic's owner dead-letters the
 * record, e.g. the ledger sink for the ledger topic). An outage (registry unreachable) is neither
 * skipped nor thrown: a global thread cannot be replaced (Kafka Streams shuts the client down
 * instead), so the record is read again after a pause (0.5 s doubling to 30 s, as
 * {@link StreamsService} pauses a stream thread) until the outage ends; the app stays up.
 */
public final class GlobalInputs {
    private static final Logger log = LoggerFactory.getLogger(GlobalInputs.class);

    /** Waits {@code ms} before an unreadable record is read again. */
    interface Pause {
        void pause(long ms) throws InterruptedException;
    }

    private GlobalInputs() {
    }

    /** {@code serde} whose deserializer turns an unreadable record into {@code null} (skipped by the store's processor). */
    public static <T> Serde<T> skippingUnreadable(Serde<T> serde) {
        return skippingUnreadable(serde, Thread::sleep);
    }

    static <T> Serde<T> skippingUnreadable(Serde<T> serde, Pause pause) {
        Deserializer<T> inner = serde.deserializer();
        Deserializer<T> lenient = (topic, data) -> {
            for (int attempt = 0; ; attempt++) {
                try {
                    return inner.deserialize(topic, data);
                } catch (RuntimeException e) {
                    Optional<String> outage = Outage.of(e);
                    if (outage.isEmpty()) {
                        log.warn("global store skips an unreadable record of {}: {}", topic, e.toString());
                        return null;
                    }
                    long ms = StreamsService.outagePauseMs(attempt);
                    log.warn("global store cannot read a record of {} during an outage, reading it again in {} ms: {}",
                            topic, ms, outage.get());
                    try {
                        pause.pause(ms);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt(); // closing: the record is read again at the next start
                        throw e;
                    }
                }
            }
        };
        return Serdes.serdeFrom(serde.serializer(), lenient);
    }
}
