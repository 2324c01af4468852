package io.agora.schemas;

import java.util.Map;

/** The connection settings every part of the market needs. */
public interface AgoraConfigView {
    String bootstrapServers();

    /** Apicurio v2 API base, e.g. http://localhost:8081/apis/registry/v2, or "plain" for none. */
    String registryUrl();

    /**
     * Security settings every Kafka client adds to its own properties ({@code security.protocol},
     * {@code sasl.*}, {@code ssl.*}): see {@link KafkaAccess#clientProperties}.
     */
    default Map<String, Object> kafkaClientProperties() {
        return Map.of();
    }

    /** Any other setting by key ({@code agora.x.y}); views that carry only the connection settings have none. */
    default java.util.Optional<String> find(String key) {
        return java.util.Optional.empty();
    }

    /** Key of {@link #fetchMaxWaitMs} ({@code AGORA_FETCH_MAX_WAIT_MS}). */
    String FETCH_MAX_WAIT_MS = "agora.fetch.max.wait.ms";

    /**
     * How long a fetch of every consumer of the market (streams apps, workers, ingest-api's market feed,
     * the ledger sink) waits at the broker for data: default 2 s instead of the client's 0.5 s. Data that
     * arrives answers a waiting fetch at once (fetch.min.bytes 1), so the wait adds no latency; it sets
     * how often an idle consumer asks again (every 2 s instead of twice a second). Only partitions newly
     * assigned while a fetch waits start that much later.
     */
    default int fetchMaxWaitMs() {
        return find(FETCH_MAX_WAIT_MS).map(s -> Integer.parseInt(s.trim())).orElse(2000);
    }
}
