package io.agora.schemas;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class AgoraConfigViewTest {

    @Test
    void everyConsumerWaitsTwoSecondsForDataUnlessConfigured() {
        assertThat(AgoraConfig.of(Map.of("agora.bootstrap", "127.0.0.1:1")).fetchMaxWaitMs()).isEqualTo(2000);
        assertThat(AgoraConfig.of(Map.of(AgoraConfigView.FETCH_MAX_WAIT_MS, "500")).fetchMaxWaitMs()).isEqualTo(500);
    }
}
