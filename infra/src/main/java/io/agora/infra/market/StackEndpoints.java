package io.agora.infra.market;

import io.agora.infra.KafkaCredentials;

/** Where the infrastructure the market runs on can be reached, and the Kafka principals' credentials. */
public record StackEndpoints(String bootstrap, String registryUrl, String jdbcUrl, String jdbcUser, String jdbcPassword,
                             KafkaCredentials kafka) {
}
