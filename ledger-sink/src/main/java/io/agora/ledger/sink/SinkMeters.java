package io.agora.ledger.sink;

import io.agora.ledger.SinkRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.List;

/**
 * What the sink counts: {@code agora_sink_batch_records} (records per committed poll batch, a
 * summary with its histogram), {@code agora_sink_records_total{topic}} (records committed, by
 * topic) and {@code agora_sink_dead_letters_total} (records it sent to {@code agora.dlq}). Its lag
 * per partition is its consumer's {@code kafka_consumer_fetch_manager_records_lag}.
 */
public final class SinkMeters {
    private final MeterRegistry registry;
    private final DistributionSummary batch;
    private final Counter deadLetters;

    public SinkMeters(MeterRegistry registry) {
        this.registry = registry;
        this.batch = DistributionSummary.builder("agora.sink.batch.records").description("records per committed batch")
                .serviceLevelObjectives(1, 10, 50, 100, 250, 500, 1000, 5000).register(registry);
        this.deadLetters = Counter.builder("agora.sink.dead.letters").description("records sent to agora.dlq")
                .register(registry);
    }

    /** Meters nobody reads (tests). */
    static SinkMeters none() {
        return new SinkMeters(new SimpleMeterRegistry());
    }

    MeterRegistry registry() {
        return registry;
    }

    /** A committed batch: its decoded records, and how many records went to the DLQ. */
    void committed(List<SinkRecord> decoded, int deadLettered) {
        batch.record(decoded.size() + deadLettered);
        for (SinkRecord r : decoded) {
            Counter.builder("agora.sink.records").description("records committed to PostgreSQL, by topic")
                    .tag("topic", r.topic()).register(registry).increment();
        }
        deadLetters.increment(deadLettered);
    }
}
