package io.agora.matcher;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A stage's reading of its own lag. */
class ReadClockTest {
    static final long T0 = 1_700_000_000_000L;

    @Test
    void theStageHasHeardUpToItsLastEventsAgeWhichCountsDownWhileNothingArrives() {
        // the last event was 12 s old when read at T0
        assertThat(ReadClock.heard(T0, 12_000, T0)).isEqualTo(T0 - 12_000);
        // 5 s with nothing read (a backlog would have brought events): 7 s of lag are left
        assertThat(ReadClock.heard(T0 + 5_000, 12_000, T0)).isEqualTo(T0 + 5_000 - 7_000);
        // after the whole lag the stage counts as caught up, and stays so
        assertThat(ReadClock.heard(T0 + 12_000, 12_000, T0)).isEqualTo(T0 + 12_000);
        assertThat(ReadClock.heard(T0 + 30_000, 12_000, T0)).isEqualTo(T0 + 30_000);
        assertThat(ReadClock.heard(T0, 0, T0)).as("no lag").isEqualTo(T0);
    }

    @Test
    void theLastRecordReadSetsTheLagAndAWorkersClockCountsOnlyUpToItsBound() {
        ReadClock clock = new ReadClock();
        assertThat(clock.heard(T0)).as("nothing read yet").isEqualTo(T0);
        clock.read(T0, T0 - 30_000);
        assertThat(clock.heard(T0)).isEqualTo(T0 - 30_000);
        clock.read(T0 + 1_000, T0 + 1_000);
        assertThat(clock.heard(T0 + 1_000)).as("caught up").isEqualTo(T0 + 1_000);
        clock.read(T0 + 2_000, T0 + 60_000);
        assertThat(clock.heard(T0 + 2_000)).as("a record from the future is no lag").isEqualTo(T0 + 2_000);

        // a worker stamping its heartbeats an hour back holds the clock back by at most the bound
        clock.read(T0 + 3_000, T0 - 3_600_000, 10_000);
        assertThat(clock.heard(T0 + 3_000)).isEqualTo(T0 + 3_000 - 10_000);
    }

    @Test
    void eachTaskHasAClockOfItsOwn() {
        ReadClock.PerTask reads = new ReadClock.PerTask();
        var t0 = new org.apache.kafka.streams.processor.TaskId(0, 0);
        reads.of(t0).read(T0, T0 - 5_000);
        assertThat(reads.of(t0).heard(T0)).isEqualTo(T0 - 5_000);
        assertThat(reads.of(new org.apache.kafka.streams.processor.TaskId(0, 1)).heard(T0)).isEqualTo(T0);
    }
}
