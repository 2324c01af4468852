package io.agora.matcher;

import io.agora.runtime.Service;
import io.agora.schemas.AgoraConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class MatcherAppTest {
    @TempDir
    Path dir;

    @Test
    void itsMetricsHoldTheStreamsClientsAndTheMatchersOwn() {
        Service s = MatcherApp.create(AgoraConfig.of(Map.of("agora.registry.url", "plain", "agora.state.dir", dir.toString())));
        try {
            assertThat(s.health()).containsEntry("app", MatcherApp.APP_ID);
            assertThat(s.meters().scrape())
                    .contains("kafka_stream_alive_stream_threads", "kafka_stream_thread_process_total{",
                            "kafka_consumer_", "kafka_producer_")
                    .contains("agora_matcher_admissions_total{outcome=\"accepted\"} 0.0",
                            "agora_matcher_admissions_total{outcome=\"rejected\"} 0.0",
                            "agora_streams_pending_records 0");
        } finally {
            s.close();
        }
    }
}
