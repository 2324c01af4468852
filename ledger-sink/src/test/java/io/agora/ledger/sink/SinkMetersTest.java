package io.agora.ledger.sink;

import io.agora.ledger.SinkRecord;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SinkMetersTest {

    @Test
    void aCommittedBatchIsCountedByTopicWithItsSizeAndDeadLetters() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        SinkMeters meters = new SinkMeters(registry);
        meters.committed(List.of(record("agora.ledger.entries"), record("agora.ledger.entries"), record("agora.jobs.verdicts")), 1);
        assertThat(registry.scrape()).contains(
                "agora_sink_records_total{topic=\"agora.ledger.entries\"} 2.0",
                "agora_sink_records_total{topic=\"agora.jobs.verdicts\"} 1.0",
                "agora_sink_batch_records_count 1",
                "agora_sink_batch_records_sum 4.0",
                "agora_sink_dead_letters_total 1.0");
    }

    private static SinkRecord record(String topic) {
        return new SinkRecord(topic, 0, 0, new byte[0], new byte[0], null);
    }
}
