package io.agora.ingest.config;

import io.micronaut.context.annotation.ConfigurationProperties;

/**
 * Market rules the API must agree on with the matcher (prefix {@code agora.market}).
 *
 * @param starterGrantMicros what a client with no account yet will be granted by admission
 */
@ConfigurationProperties("agora.market")
public record MarketSettings(long starterGrantMicros) {
}
