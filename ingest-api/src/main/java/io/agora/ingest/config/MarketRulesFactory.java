package io.agora.ingest.config;

import io.agora.market.MarketRules;
import io.agora.schemas.AgoraConfig;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;

import java.util.Map;

/**
 * The market-wide rules, read from the same {@code AGORA_MATCHER_WEIGHT_*}, {@code AGORA_POOL_<name>_ALLOWLIST}
 * and starter-grant variables the matcher reads, so the match preview scores and filters as the
 * matcher does and submissions to trusted pools are checked against the same allowlists.
 */
@Factory
public class MarketRulesFactory {
    @Singleton
    MarketRules marketRules() {
        return MarketRules.from(AgoraConfig.load(Map.of()));
    }
}
