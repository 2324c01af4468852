package io.agora.worker;

import io.agora.events.WorkerStatus;
import io.agora.schemas.AgoraConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class QuietHeartbeatsTest {
    private static QuietHeartbeats.Report idle(int free) {
        return new QuietHeartbeats.Report("public", WorkerStatus.READY, null, free, 0.0, List.of(), List.of(0, 1), 800,
                List.of("sha256:a"));
    }

    private static QuietHeartbeats.Report busy(String task) {
        return new QuietHeartbeats.Report("public", WorkerStatus.READY, null, 1, 0.5, List.of(task), List.of(0, 1), 800,
                List.of("sha256:a"));
    }

    @Test
    void anIdleWorkerWithNothingNewBeatsOnlyOnceTheLastBeatIsIdleMsOld() {
        QuietHeartbeats q = new QuietHeartbeats(4000);
        assertThat(q.send(idle(2), 0)).isTrue();
        assertThat(q.send(idle(2), 2000)).isFalse();
        assertThat(q.send(idle(2), 3999)).isFalse();
        assertThat(q.send(idle(2), 4000)).isTrue();
        assertThat(q.send(idle(2), 6000)).isFalse();
    }

    @Test
    void anythingNewGoesAtOnce() {
        QuietHeartbeats q = new QuietHeartbeats(4000);
        assertThat(q.send(idle(2), 0)).isTrue();
        assertThat(q.send(idle(1), 100)).isTrue();
        QuietHeartbeats.Report draining = new QuietHeartbeats.Report("public", WorkerStatus.DRAINING, "draining", 0, 0.0,
                List.of(), List.of(0, 1), 800, List.of("sha256:a"));
        assertThat(q.send(draining, 200)).isTrue();
        QuietHeartbeats.Report moved = new QuietHeartbeats.Report("public", WorkerStatus.DRAINING, "draining", 0, 0.0,
                List.of(), List.of(2), 800, List.of("sha256:a"));
        assertThat(q.send(moved, 300)).isTrue();
    }

    @Test
    void aWorkerWithTasksInFlightBeatsEveryIntervalToRenewTheirLeases() {
        QuietHeartbeats q = new QuietHeartbeats(4000);
        assertThat(q.send(busy("t1"), 0)).isTrue();
        assertThat(q.send(busy("t1"), 2000)).isTrue();
        assertThat(q.send(busy("t1"), 4000)).isTrue();
    }

    @Test
    void theIdleSilenceIsFourSecondsAndNeverShorterThanTheInterval() {
        assertThat(WorkerConfig.from(AgoraConfig.of(Map.of())).heartbeatIdleMs()).isEqualTo(4000);
        assertThat(WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.heartbeat.ms", "10000"))).heartbeatIdleMs())
                .isEqualTo(10_000);
        assertThat(WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.heartbeat.idle.ms", "6000"))).heartbeatIdleMs())
                .isEqualTo(6000);
    }
}
