package io.agora.ingest.market;

import io.agora.ingest.config.KafkaSettings;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MarketFeedTest {

    @Test
    void anIdleFeedAsksTheBrokerEveryTwoSecondsAsEveryConsumerOfTheMarketDoes() {
        assertThat(MarketFeed.consumerProps(new KafkaSettings("127.0.0.1:1", "plain")))
                .containsEntry(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 2000)
                .containsEntry(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    }
}
