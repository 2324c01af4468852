package io.agora.matcher;

import io.agora.schemas.testing.SignedRecords;
import io.agora.events.Heartbeat;
import io.agora.events.WorkerStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class QuietBeatsTest {
    final QuietBeats quiet = new QuietBeats(5_000);
    long seq = 1;

    Heartbeat idle(String workerId, long at) {
        return SignedRecords.heartbeat(workerId, "public", seq++, at, 4, List.of(3), List.of(), 500);
    }

    @Test
    void aHeartbeatReportingNothingNewIsAbsorbedHoweverLongTheWorkerLives() {
        assertThat(quiet.forward(idle("w", 0), 0)).as("the first").isTrue();
        for (long t = 2_000; t <= 60_000; t += 2_000) {
            assertThat(quiet.forward(idle("w", t), t)).as("at " + t).isFalse();
            assertThat(quiet.silent(t + 1)).as("heard at " + t).isEmpty();
        }
    }

    @Test
    void aWorkerNotHeardForTheGraceIsCalledSilentOnceAndItsNextHeartbeatGoesOn() {
        quiet.forward(idle("w", 0), 0);
        quiet.forward(idle("w", 3_000), 3_000);
        assertThat(quiet.graceEndsWithin(3_000, 4_000)).as("the grace ends at 8 s").isFalse();
        assertThat(quiet.graceEndsWithin(4_500, 4_000)).isTrue();
        assertThat(quiet.silent(8_000)).as("the grace is not over").isEmpty();
        assertThat(quiet.silent(8_001)).containsExactly("w");
        assertThat(quiet.silent(20_000)).as("once per silence").isEmpty();
        assertThat(quiet.graceEndsWithin(20_000, 4_000)).as("a silent worker waits for nothing").isFalse();
        assertThat(quiet.forward(idle("w", 21_000), 21_000)).as("back: the pool takes it online again").isTrue();
        assertThat(quiet.forward(idle("w", 22_000), 22_000)).isFalse();
        assertThat(quiet.silent(27_001)).containsExactly("w");
    }

    @Test
    void aWatchedWorkerIsHeardFromTheWatchAndAForgottenOneIsNeverCalledSilent() {
        quiet.watch("w", 1_000); // registered, or held by the gate at its start
        quiet.watch("v", 1_000);
        quiet.forget("v"); // deregistered
        assertThat(quiet.silent(6_000)).isEmpty();
        assertThat(quiet.silent(6_001)).containsExactly("w");
        assertThat(quiet.forward(idle("v", 7_000), 7_000)).as("an unwatched worker's heartbeat goes on").isTrue();
    }

    @Test
    void anythingNewGoesOn() {
        quiet.forward(idle("w", 0), 0);
        Heartbeat h = idle("w", 1);
        assertThat(quiet.forward(Heartbeat.newBuilder(h).setFreeSlots(3).build(), 1)).as("free slots").isTrue();
        assertThat(quiet.forward(Heartbeat.newBuilder(h).setFreeSlots(3).build(), 2)).isFalse();
        assertThat(quiet.forward(Heartbeat.newBuilder(h).setFreeSlots(3).setLoad(0.5).build(), 3)).as("load").isTrue();
        assertThat(quiet.forward(Heartbeat.newBuilder(h).setFreeSlots(3).setLoad(0.5).setStatus(WorkerStatus.DRAINING)
                .build(), 4)).as("status").isTrue();
        assertThat(quiet.forward(idle("w", 5), 5)).as("back to idle").isTrue();
        assertThat(quiet.forward(Heartbeat.newBuilder(idle("w", 6)).setOwnedPartitions(List.of(3, 4)).build(), 6))
                .as("partitions").isTrue();
        assertThat(quiet.forward(Heartbeat.newBuilder(idle("w", 7)).setOwnedPartitions(List.of(3, 4))
                .setPricePerCpuSecondMicros(600).build(), 7)).as("price").isTrue();
        assertThat(quiet.forward(Heartbeat.newBuilder(idle("w", 8)).setOwnedPartitions(List.of(3, 4))
                .setPricePerCpuSecondMicros(600).setPool("other").build(), 8)).as("pool").isTrue();
    }

    @Test
    void aHeartbeatWithATaskInFlightAlwaysGoesOnForItRenewsTheLease() {
        Heartbeat busy = SignedRecords.heartbeat("w", "public", 1, 0, 3, List.of(3), List.of("job-1/0/0"), 500);
        assertThat(quiet.forward(busy, 0)).isTrue();
        assertThat(quiet.forward(Heartbeat.newBuilder(busy).setSeq(2).build(), 1)).isTrue();
        assertThat(quiet.forward(Heartbeat.newBuilder(busy).setSeq(3).build(), 2)).isTrue();
    }

    @Test
    void eachWorkerIsJudgedOnItsOwnAndARegistrationStartsAfresh() {
        quiet.forward(idle("w", 0), 0);
        assertThat(quiet.forward(idle("v", 1), 1)).as("another worker").isTrue();
        assertThat(quiet.forward(idle("w", 2), 2)).isFalse();
        quiet.watch("w", 3);
        assertThat(quiet.forward(idle("w", 3), 3)).as("after a registration").isTrue();
        assertThat(quiet.silent(5_003)).as("v, last heard at 1").containsExactly("v");
    }
}
