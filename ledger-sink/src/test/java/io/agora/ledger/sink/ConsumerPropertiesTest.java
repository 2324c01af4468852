package io.agora.ledger.sink;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ConsumerPropertiesTest {

    @Test
    void anIdleSinkAsksTheBrokerEveryTwoSecondsAsEveryConsumerOfTheMarketDoes() {
        SinkConfig cfg = SinkConfig.of("agora", "agora-ledger-sink", "127.0.0.1:1", "plain");
        assertThat(LedgerSink.consumerProperties(cfg))
                .containsEntry(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "2000")
                .containsEntry(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    }
}
