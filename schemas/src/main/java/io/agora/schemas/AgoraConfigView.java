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
}
