package io.agora.verifier;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.Identity;
import io.agora.schemas.MatcherKey;
import io.agora.runtime.Service;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VerifierAppTest {
    private static final String MATCHER = Identity.generate().workerId();
    @TempDir
    Path dir;

    @Test
    void createsTheServiceWithoutABroker() {
        Service s = VerifierApp.create(AgoraConfig.of(Map.of("agora.registry.url", "plain", "agora.state.dir", dir.toString(),
                MatcherKey.PUBLIC_CONFIG, MATCHER)));
        try {
            assertThat(s.health()).containsEntry("app", VerifierConfig.APP_ID)
                    .containsEntry("marketKey", Identity.loadOrCreate(dir.resolve("verifier-market.key")).workerId());
            assertThat(dir.resolve("verifier-market.key.pub")).content().isEqualToIgnoringNewLines((String) s.health().get("marketKey"));
        } finally {
            s.close();
        }
    }

    @Test
    void refusesToStartWithoutTheMatchersPublicKey() {
        assertThatThrownBy(() -> VerifierApp.create(AgoraConfig.of(Map.of("agora.registry.url", "plain", "agora.state.dir",
                dir.toString())))).hasMessageContaining("AGORA_MATCHER_PUBLIC_KEY");
    }

    @Test
    void aNamedMarketKeyFileMustExist() {
        assertThatThrownBy(() -> VerifierApp.create(AgoraConfig.of(Map.of("agora.registry.url", "plain", "agora.state.dir",
                dir.toString(), MarketKey.FILE_CONFIG, dir.resolve("absent.key").toString()))))
                .hasMessageContaining("not a readable file");
    }

    @Test
    void itsMetricsHoldTheStreamsClientsAndTheVerifiersOwn() {
        Service s = VerifierApp.create(AgoraConfig.of(Map.of("agora.registry.url", "plain", "agora.state.dir", dir.toString(),
                MatcherKey.PUBLIC_CONFIG, MATCHER)));
        try {
            assertThat(s.meters().scrape())
                    .contains("kafka_stream_alive_stream_threads", "kafka_stream_thread_process_total{",
                            "kafka_consumer_", "kafka_producer_")
                    .contains("agora_verifier_verdicts_total{outcome=\"COMPLETED\"} 0.0",
                            "agora_verifier_verdicts_total{outcome=\"NO_CONSENSUS\"} 0.0",
                            "agora_verifier_paid_micros_total 0.0", "agora_verifier_refunded_micros_total 0.0",
                            "agora_verifier_dead_letters_total 0.0", "agora_streams_threads_replaced_total 0");
        } finally {
            s.close();
        }
    }
}
