package io.agora.ingest.config;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.AgoraConfigView;
import io.micronaut.context.annotation.ConfigurationProperties;

import java.util.Map;

/**
 * Where the market's Kafka and schema registry are: {@code agora.bootstrap} ({@code AGORA_BOOTSTRAP})
 * and {@code agora.registry-url} ({@code AGORA_REGISTRY_URL}, {@code plain} = no registry).
 */
@ConfigurationProperties("agora")
public record KafkaSettings(String bootstrap, String registryUrl) implements AgoraConfigView {
    @Override
    public String bootstrapServers() {
        return bootstrap;
    }

    /** The {@code AGORA_KAFKA_*} security settings, read as every other app reads them. */
    @Override
    public Map<String, Object> kafkaClientProperties() {
        return AgoraConfig.load(Map.of()).kafkaClientProperties();
    }

    /** Any other {@code AGORA_*} setting (the registry's credentials, look-up only), read as every other app reads them. */
    @Override
    public java.util.Optional<String> find(String key) {
        return AgoraConfig.load(Map.of()).find(key);
    }
}
