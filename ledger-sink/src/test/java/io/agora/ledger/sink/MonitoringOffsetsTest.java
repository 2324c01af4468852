package io.agora.ledger.sink;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class MonitoringOffsetsTest {
    static final TopicPartition LEDGER_0 = new TopicPartition("agora.ledger.entries", 0);
    static final TopicPartition EVENTS_3 = new TopicPartition("agora.jobs.events", 3);
    static final long T0 = 1_700_000_000_000L;

    @Test
    void batchesWithinAnIntervalShareOneCommitOfEachPartitionsLatestOffset() {
        MonitoringOffsets m = new MonitoringOffsets();
        assertThat(m.committed(Map.of(LEDGER_0, 10L), T0)).as("the first batch").containsExactly(Map.entry(LEDGER_0, 10L));

        assertThat(m.committed(Map.of(LEDGER_0, 12L, EVENTS_3, 5L), T0 + 1)).isEmpty();
        assertThat(m.committed(Map.of(LEDGER_0, 15L), T0 + MonitoringOffsets.INTERVAL_MS - 1)).isEmpty();
        assertThat(m.committed(Map.of(EVENTS_3, 7L), T0 + MonitoringOffsets.INTERVAL_MS))
                .containsOnly(Map.entry(LEDGER_0, 15L), Map.entry(EVENTS_3, 7L));
    }

    @Test
    void anIdlePollCommitsWhatWaitsOnce() {
        MonitoringOffsets m = new MonitoringOffsets();
        m.committed(Map.of(LEDGER_0, 10L), T0);
        assertThat(m.committed(Map.of(LEDGER_0, 11L), T0 + 5)).isEmpty();

        assertThat(m.idle(T0 + 6)).containsExactly(Map.entry(LEDGER_0, 11L));
        assertThat(m.idle(T0 + 7)).as("nothing new").isEmpty();
        assertThat(m.committed(Map.of(LEDGER_0, 12L), T0 + 8)).as("the idle commit started a new interval").isEmpty();
    }
}
