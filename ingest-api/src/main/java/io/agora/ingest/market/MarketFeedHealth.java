package io.agora.ingest.market;

import io.micronaut.context.annotation.Requires;
import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import jakarta.inject.Singleton;
import org.reactivestreams.Publisher;

import java.util.Map;

/**
 * {@code /health} is DOWN when the {@link MarketFeed} thread has ended: the API would go on
 * answering with frozen workers and event streams that never end, so the probe must restart it.
 */
@Singleton
@Requires(beans = MarketFeed.class)
public class MarketFeedHealth implements HealthIndicator {
    private final MarketFeed feed;

    public MarketFeedHealth(MarketFeed feed) {
        this.feed = feed;
    }

    @Override
    public Publisher<HealthResult> getResult() {
        boolean alive = feed.alive();
        return Publishers.just(HealthResult.builder("marketFeed", alive ? HealthStatus.UP : HealthStatus.DOWN)
                .details(Map.of("thread", alive ? "running" : "stopped", "caughtUp", feed.caughtUp()))
                .build());
    }
}
