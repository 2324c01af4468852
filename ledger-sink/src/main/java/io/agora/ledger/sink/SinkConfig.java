package io.agora.ledger.sink;

import io.agora.ledger.LedgerSchema;
import io.agora.schemas.AgoraConfigView;
import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.core.bind.annotation.Bindable;

import java.time.Duration;

/**
 * Typed configuration of the ledger sink ({@code agora.sink.*}; see application.yml for the
 * environment variables behind each key).
 *
 * @param schema           PostgreSQL schema the projection lives in; Flyway migrates it and every
 *                         transaction sets it as the search path, so the audit can replay elsewhere
 * @param groupId          consumer group of the sink; also the key of its rows in {@code consumer_offsets}
 * @param pollTimeout      how long one poll waits for records
 * @param batchSize        most records per poll, hence per database transaction
 * @param retryInitial     first wait after PostgreSQL refused a connection
 * @param retryMax         cap of the exponential back-off
 */
@ConfigurationProperties("agora.sink")
public record SinkConfig(
        @Bindable(defaultValue = "agora") String schema,
        @Bindable(defaultValue = "agora-ledger-sink") String groupId,
        @Bindable(defaultValue = "500ms") Duration pollTimeout,
        @Bindable(defaultValue = "500") int batchSize,
        @Bindable(defaultValue = "localhost:9092") String bootstrapServers,
        @Bindable(defaultValue = "http://localhost:8081/apis/registry/v2") String registryUrl,
        @Bindable(defaultValue = "200ms") Duration retryInitial,
        @Bindable(defaultValue = "10s") Duration retryMax) implements AgoraConfigView {

    public SinkConfig {
        LedgerSchema.requireValidName(schema);
    }

    /** The {@code AGORA_KAFKA_*} security settings, read as every other app reads them. */
    @Override
    public java.util.Map<String, Object> kafkaClientProperties() {
        return io.agora.schemas.AgoraConfig.load(java.util.Map.of()).kafkaClientProperties();
    }

    /** Any other {@code AGORA_*} setting (the registry's credentials, look-up only), read as every other app reads them. */
    @Override
    public java.util.Optional<String> find(String key) {
        return io.agora.schemas.AgoraConfig.load(java.util.Map.of()).find(key);
    }

    /** A configuration for tests and tools that do not go through Micronaut. */
    public static SinkConfig of(String schema, String groupId, String bootstrap, String registryUrl) {
        return new SinkConfig(schema, groupId, Duration.ofMillis(200), 500, bootstrap, registryUrl,
                Duration.ofMillis(100), Duration.ofSeconds(2));
    }
}
