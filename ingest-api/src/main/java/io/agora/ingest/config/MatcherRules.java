package io.agora.ingest.config;

import io.agora.common.AgoraConfig;
import io.agora.matcher.MatcherConfig;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;

import java.util.Map;

/**
 * The matcher's own configuration, read from the same {@code AGORA_MATCHER_*} and
 * {@code AGORA_POOL_<name>_ALLOWLIST} variables the matcher reads, so the match preview scores and
 * filters with the weights and allowlists the matcher uses.
 */
@Factory
public class MatcherRules {
    @Singleton
    MatcherConfig matcherConfig() {
        return MatcherConfig.from(AgoraConfig.load(Map.of()));
    }
}
