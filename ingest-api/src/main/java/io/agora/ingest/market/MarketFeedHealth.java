package io.agora.ingest.market;

import io.micronaut.context.annotation.Requires;
import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import jakarta.inject.Singleton;
import org.reactivestreams.Publisher;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code /health} is DOWN when the {@link MarketFeed} thread has ended: the API would go on
 * answering with frozen workers and event streams that never end, so the probe must restart it.
 * {@code outage} names an outage the feed waits out (UP: it reads on once the outage ends).
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
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("thread", alive ? "running" : "stopped");
        details.put("caughtUp", feed.caughtUp());
        // what the feed waits out (the registry...): the API's workers and job events lag meanwhile, none is lost
        feed.outage(System.currentTimeMillis()).ifPresent(o -> details.put("outage", o));
        return Publishers.just(HealthResult.builder("marketFeed", alive ? HealthStatus.UP : HealthStatus.DOWN)
                .details(details).build());
    }
}
