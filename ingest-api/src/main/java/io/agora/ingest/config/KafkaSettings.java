package io.agora.ingest.config;

import io.agora.schemas.AgoraConfigView;
import io.micronaut.context.annotation.ConfigurationProperties;

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
}
