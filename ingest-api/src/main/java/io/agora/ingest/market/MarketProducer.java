package io.agora.ingest.market;

import io.agora.ingest.api.ApiException;
import io.agora.ingest.config.IngestSettings;
import io.agora.ingest.config.KafkaSettings;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.TopicSpec;
import io.agora.schemas.Traces;
import io.micronaut.http.HttpStatus;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * The API's one idempotent producer (acks=all). {@link #send} returns, and {@link #sendAsync}'s
 * future completes, only once the broker has acknowledged the record, so a 202 means the event is
 * durably in the log.
 * Output topics: agora.jobs.requests, agora.jobs.commands, agora.ledger.entries. Each record
 * carries the {@code traceparent} of the call that produced it.
 */
@Singleton
public class MarketProducer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MarketProducer.class);
    private final KafkaProducer<String, byte[]> producer;
    private final AgoraSerdes serdes;
    private final long timeoutMs;
    private final Map<String, Serializer<?>> serializers = new ConcurrentHashMap<>();

    public MarketProducer(KafkaSettings kafka, IngestSettings settings) {
        this.serdes = AgoraSerdes.fromConfig(kafka);
        this.timeoutMs = settings.produceTimeoutMs();
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
        p.putAll(kafka.kafkaClientProperties());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.max(15_000, timeoutMs));
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(timeoutMs, 10_000));
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeoutMs);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "agora-ingest-api");
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /** Produces one record and waits for the ack; 503 if the broker does not answer in time. */
    public <V> RecordMetadata send(TopicSpec<String, V> topic, String key, V value) {
        try {
            return sendAsync(topic, key, value).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof ApiException api ? api : e;
        }
    }

    /**
     * Produces one record; the future completes when the broker has acknowledged it, or fails
     * with a 503 {@link ApiException} when it does not within the produce timeout. Only the
     * serialisation and the hand-over to the producer happen on the caller's thread (plus the
     * metadata wait, bounded by the same timeout, when the broker is not known yet).
     */
    @SuppressWarnings("unchecked")
    public <V> CompletableFuture<RecordMetadata> sendAsync(TopicSpec<String, V> topic, String key, V value) {
        Serializer<V> ser = (Serializer<V>) serializers.computeIfAbsent(topic.name(),
                t -> serdes.valueSerde(topic).serializer());
        byte[] bytes = ser.serialize(topic.name(), value);
        CompletableFuture<RecordMetadata> acked = new CompletableFuture<>();
        try {
            producer.send(record(topic.name(), key, bytes), (metadata, e) -> {
                if (e != null) {
                    acked.completeExceptionally(unreachable(topic, e));
                } else {
                    acked.complete(metadata);
                }
            });
        } catch (KafkaException e) {
            acked.completeExceptionally(unreachable(topic, e));
        }
        return acked.orTimeout(timeoutMs, TimeUnit.MILLISECONDS).exceptionallyCompose(e ->
                CompletableFuture.failedFuture(e instanceof ApiException ? e : unreachable(topic, e)));
    }

    /** The record to produce, carrying the trace of the call being handled ({@link Traces}). */
    static ProducerRecord<String, byte[]> record(String topic, String key, byte[] value) {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, key, value);
        Traces.injectCurrent(r.headers());
        return r;
    }

    private static ApiException unreachable(TopicSpec<?, ?> topic, Throwable e) {
        LOG.warn("cannot write to {}: {}", topic.name(), e.toString());
        return new ApiException(HttpStatus.SERVICE_UNAVAILABLE,
                "the market's log is not reachable right now, retry with the same Idempotency-Key");
    }

    @PreDestroy
    @Override
    public void close() {
        producer.close(java.time.Duration.ofSeconds(5));
    }
}
