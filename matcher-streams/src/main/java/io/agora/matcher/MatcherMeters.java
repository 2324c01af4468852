package io.agora.matcher;

import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.TaskAssigned;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the matcher counts, from the effects its processors forward (the pool markets and
 * admission stay free of meters):
 * {@code agora_matcher_decision_seconds{input}} (time a pool market takes for one input or tick,
 * matching included; a histogram), {@code agora_matcher_queue_depth{pool}},
 * {@code agora_matcher_placements_total{pool}} (tasks assigned, reassignments included),
 * {@code agora_matcher_reassignments_total{pool}} and {@code agora_matcher_admissions_total{outcome}}.
 */
public final class MatcherMeters {
    private final MeterRegistry registry;
    private final Map<String, Timer> decisions = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> queueDepth = new ConcurrentHashMap<>();

    public MatcherMeters(MeterRegistry registry) {
        this.registry = registry;
        admissions(true);
        admissions(false);
    }

    /** Meters nobody reads (tests of the topology). */
    static MatcherMeters none() {
        return new MatcherMeters(new SimpleMeterRegistry());
    }

    /** Time of one pool market call, by input kind ({@code tick} for the clock's). */
    void decided(String input, long nanos) {
        decisions.computeIfAbsent(input, i -> Timer.builder("agora.matcher.decision")
                .description("time a pool market takes for one input, matching included")
                .tag("input", i)
                .serviceLevelObjectives(ms(0.05), ms(0.1), ms(0.25), ms(0.5), ms(1), ms(2.5), ms(5), ms(10), ms(25),
                        ms(50), ms(100), ms(250), ms(1000))
                .register(registry)).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** The pool's effects: placements and reassignments, and its queue depth afterwards. */
    void effects(String pool, PoolMarket.Effects fx, int queued) {
        for (PoolMarket.Effects.Emitted e : fx.records()) {
            if (e.value() instanceof TaskAssigned) {
                counter("agora.matcher.placements", "tasks assigned to a worker", pool).increment();
            } else if (e.value() instanceof JobEvent ev && ev.getType() == JobEventType.REASSIGNED) {
                counter("agora.matcher.reassignments", "replicas routed to another worker", pool).increment();
            }
        }
        queueDepth.computeIfAbsent(pool, p -> {
            AtomicInteger depth = new AtomicInteger();
            Gauge.builder("agora.matcher.queue.depth", depth, AtomicInteger::get)
                    .description("jobs waiting in the pool's queue").tag("pool", p).register(registry);
            return depth;
        }).set(queued);
    }

    /** An admission decision: {@code accepted} or {@code rejected}. */
    void admitted(boolean accepted) {
        admissions(accepted).increment();
    }

    private Counter admissions(boolean accepted) {
        return Counter.builder("agora.matcher.admissions").description("admission decisions, by outcome")
                .tag("outcome", accepted ? "accepted" : "rejected").register(registry);
    }

    private static Duration ms(double ms) {
        return Duration.ofNanos((long) (ms * 1_000_000));
    }

    private Counter counter(String name, String description, String pool) {
        return Counter.builder(name).description(description).tags(Tags.of("pool", pool)).register(registry);
    }
}
