package io.agora.runtime;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class RestoreWatchTest {
    private static final long STALL_MS = 30_000;
    private static final TopicPartition POOL_JOBS = new TopicPartition("agora-matcher-matcher-pool-jobs-changelog", 4);
    private static final TopicPartition GATE = new TopicPartition("agora-matcher-matcher-worker-gate-changelog", 1);

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final RestoreWatch watch = new RestoreWatch(now::get);

    @Test
    void aRestoreThatRestoresNothingForTheStallTimeIsNamed() {
        watch.onRestoreStart(POOL_JOBS, "matcher-pool-jobs", 0, 257);
        watch.onBatchRestored(POOL_JOBS, "matcher-pool-jobs", 255, 200);
        now.addAndGet(STALL_MS - 1);
        assertThat(watch.standingStill(STALL_MS)).isNull();

        now.addAndGet(1);
        assertThat(watch.standingStill(STALL_MS)).isEqualTo("store matcher-pool-jobs has restored nothing from "
                + "agora-matcher-matcher-pool-jobs-changelog-4 for 30 s (at offset 255 of 257)");
    }

    @Test
    void aSlowRestoreThatKeepsRestoringIsNotStuck() {
        watch.onRestoreStart(GATE, "matcher-worker-gate", 0, 1_000_000);
        for (int i = 1; i <= 10; i++) {
            now.addAndGet(STALL_MS / 2);
            watch.onBatchRestored(GATE, "matcher-worker-gate", i * 1000L, 1000);
        }
        assertThat(watch.standingStill(STALL_MS)).isNull();
    }

    @Test
    void aRestoreThatEndedOrMovedAwayIsForgotten() {
        watch.onRestoreStart(POOL_JOBS, "matcher-pool-jobs", 0, 10);
        watch.onRestoreStart(GATE, "matcher-worker-gate", 0, 10);
        watch.onRestoreEnd(POOL_JOBS, "matcher-pool-jobs", 10);
        watch.onRestoreSuspended(GATE, "matcher-worker-gate", 3);
        now.addAndGet(STALL_MS * 10);
        assertThat(watch.standingStill(STALL_MS)).isNull();
    }

    @Test
    void theRestoreStandingStillLongestIsNamed() {
        watch.onRestoreStart(GATE, "matcher-worker-gate", 0, 10);
        now.addAndGet(5_000);
        watch.onRestoreStart(POOL_JOBS, "matcher-pool-jobs", 0, 10);
        now.addAndGet(STALL_MS);
        assertThat(watch.standingStill(STALL_MS)).startsWith("store matcher-worker-gate ");
    }
}
