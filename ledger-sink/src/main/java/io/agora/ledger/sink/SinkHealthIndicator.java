package io.agora.ledger.sink;

import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import jakarta.inject.Singleton;
import org.reactivestreams.Publisher;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code /health} entry "ledgerSink": DOWN with the reason while PostgreSQL or the schema registry
 * is unreachable, or the sink stopped, or its poll loop thread is not running.
 */
@Singleton
public class SinkHealthIndicator implements HealthIndicator {
    private final SinkHealth health;

    public SinkHealthIndicator(SinkHealth health) {
        this.health = health;
    }

    @Override
    public Publisher<HealthResult> getResult() {
        SinkHealth.State s = health.state();
        Map<String, Object> details = new LinkedHashMap<>();
        if (s.reason() != null) {
            details.put("reason", s.reason());
        }
        details.put("since", s.since().toString());
        details.put("batches", s.batches());
        details.put("records", s.records());
        return Publishers.just(HealthResult.builder("ledgerSink", s.up() ? HealthStatus.UP : HealthStatus.DOWN)
                .details(details)
                .build());
    }
}
