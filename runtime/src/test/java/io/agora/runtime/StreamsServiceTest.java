package io.agora.runtime;

import io.agora.schemas.AgoraConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The service around a KafkaStreams client that is never started: no broker needed (one client for all, as closing one takes seconds). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamsServiceTest {
    @TempDir
    static Path stateDir;

    StreamsService service;

    @BeforeAll
    void create() {
        StreamsBuilder b = new StreamsBuilder();
        b.stream("agora.test.in", Consumed.with(Serdes.String(), Serdes.String()))
                .to("agora.test.out", Produced.with(Serdes.String(), Serdes.String()));
        service = new StreamsService("agora-test", b.build(), StreamsService.properties("agora-test",
                AgoraConfig.of(Map.of("agora.bootstrap", "127.0.0.1:1", "agora.streams.stall.ms", "1000")),
                stateDir.toString(), Map.of()));
    }

    @AfterAll
    void close() {
        service.close();
    }

    @Test
    void aClientThatIsNotRunningIsDownAndNamesItsAppOnce() {
        Map<String, Object> h = service.health();
        assertThat(h).containsEntry("status", "DOWN").containsEntry("reason", "state CREATED")
                .containsEntry("app", "agora-test").containsEntry("threadsReplaced", 0L);
        assertThat(Launcher.healthJson("test", h)).startsWith("{\"app\":\"agora-test\",").containsOnlyOnce("\"app\"");
    }

    @Test
    void exposesThePropertiesItRunsWith() {
        assertThat(service.properties()).containsEntry("processing.exception.handler",
                ProcessingDeadLetterHandler.class.getName()).containsEntry(StreamsService.STALL_MS_CONFIG, "1000");
    }

    @Test
    void keepsOneStandbyOfEachTaskUnlessConfigured() {
        assertThat(service.properties()).containsEntry("num.standby.replicas", "1");
        assertThat(StreamsService.properties("agora-test", AgoraConfig.of(Map.of("agora.bootstrap", "127.0.0.1:1",
                StreamsService.STANDBY_REPLICAS, "0")), stateDir.toString(), Map.of()))
                .containsEntry("num.standby.replicas", "0");
    }

    @Test
    void aSilentInstanceLeavesTheGroupAfterTenSecondsUnlessConfigured() {
        assertThat(service.properties()).containsEntry("consumer.session.timeout.ms", "10000");
        assertThat(StreamsService.properties("agora-test", AgoraConfig.of(Map.of("agora.bootstrap", "127.0.0.1:1",
                StreamsService.SESSION_TIMEOUT_MS, "45000")), stateDir.toString(), Map.of()))
                .containsEntry("consumer.session.timeout.ms", "45000");
    }

    @Test
    void anIdleConsumerAsksTheBrokerEveryTwoSecondsUnlessConfigured() {
        assertThat(service.properties()).containsEntry("consumer.fetch.max.wait.ms", "2000");
        assertThat(StreamsService.properties("agora-test", AgoraConfig.of(Map.of("agora.bootstrap", "127.0.0.1:1",
                io.agora.schemas.AgoraConfigView.FETCH_MAX_WAIT_MS, "500")), stateDir.toString(), Map.of()))
                .containsEntry("consumer.fetch.max.wait.ms", "500");
    }

    @Test
    void anIdleStreamThreadWaitsHalfASecondForInputUnlessConfigured() {
        assertThat(service.properties()).containsEntry("poll.ms", "500");
        assertThat(StreamsService.properties("agora-test", AgoraConfig.of(Map.of("agora.bootstrap", "127.0.0.1:1",
                StreamsService.POLL_MS, "100")), stateDir.toString(), Map.of()))
                .containsEntry("poll.ms", "100");
    }

    @Test
    void itsHealthTellsItsShareOfTheWork() {
        assertThat(service.health()).containsKeys("activeTasks", "standbyTasks", "processed");
    }

    @Test
    void itsMetersHoldTheStreamsClientsMetricsAndItsOwn() {
        assertThat(service.meters().scrape())
                .contains("agora_streams_threads_replaced_total 0")
                .contains("agora_streams_pending_records 0")
                .contains("kafka_stream_thread_process_total{")
                .contains("kafka_stream_alive_stream_threads");
    }

    @Test
    void theOutageBackoffGrowsToItsCapAndStartsAgainForANewOutage() {
        long t = 1_000_000;
        assertThat(service.outageBackoff(t)).isEqualTo(Duration.ofMillis(500));
        assertThat(service.outageBackoff(t + 1)).isEqualTo(Duration.ofSeconds(1));
        for (int i = 0; i < 10; i++) {
            service.outageBackoff(t + 2 + i);
        }
        assertThat(service.outageBackoff(t + 20)).isEqualTo(StreamsService.MAX_OUTAGE_BACKOFF);
        assertThat(service.outageBackoff(t + 20 + 3 * StreamsService.MAX_OUTAGE_BACKOFF.toMillis()))
                .isEqualTo(Duration.ofMillis(500));
    }
}
