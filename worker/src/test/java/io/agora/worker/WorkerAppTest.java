package io.agora.worker;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.KafkaAccess;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The task consumer joins the workers' group as a dynamic member (HostileWorkerIT shows why). */
class WorkerAppTest {
    @Test
    void theTaskConsumerHasNoStaticInstanceIdAnotherWorkerCouldReuse(@TempDir Path dir) {
        Map<String, Object> p = WorkerApp.consumerProps(AgoraConfig.of(Map.of()),
                WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", dir.toString()))), "worker-abc");
        assertThat(p).doesNotContainKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)
                .containsEntry(ConsumerConfig.GROUP_ID_CONFIG, KafkaAccess.WORKER_GROUP)
                .containsEntry(ConsumerConfig.CLIENT_ID_CONFIG, "worker-abc");
    }

    @Test
    void anIdleTaskConsumerAsksTheBrokerEveryTwoSecondsAndItsCoordinatorAThirdOfTheSessionApart(@TempDir Path dir) {
        Map<String, Object> p = WorkerApp.consumerProps(AgoraConfig.of(Map.of()),
                WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", dir.toString()))), "worker-abc");
        assertThat(p).containsEntry(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 2000)
                .containsEntry(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 5000);
    }
}
