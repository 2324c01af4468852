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

    static org.apache.kafka.common.header.Headers lag(String value) {
        org.apache.kafka.common.header.Headers h = new org.apache.kafka.common.header.internals.RecordHeaders();
        h.add(MatcherTopology.FRONT_LAG_HEADER, value.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return h;
    }

    @Test
    void thePoolStageHasHeardUpToItsSlowestFrontAndAFrontsClaimedLagCountsOneGraceAtMost() {
        MatcherTopology.FrontClocks clocks = new MatcherTopology.FrontClocks(10_000);
        clocks.read(T0, T0, lag("job-input-gate 4000"));
        clocks.read(T0, T0, lag("worker-gate 0"));
        clocks.read(T0, T0, new org.apache.kafka.common.header.internals.RecordHeaders());
        assertThat(clocks.heard(T0)).as("the job-input gate is 4 s behind").isEqualTo(T0 - 4_000);
        assertThat(clocks.heard(T0 + 1_000)).isEqualTo(T0 + 1_000 - 3_000);

        // a front's lag is the time its input says (a worker's clock): an hour counts as one grace
        clocks.read(T0 + 2_000, T0 + 2_000, lag("job-input-gate 3600000"));
        assertThat(clocks.heard(T0 + 2_000)).isEqualTo(T0 + 2_000 - 10_000);
        // what cannot be read is no lag; nor does it open clocks without bound
        MatcherTopology.FrontClocks other = new MatcherTopology.FrontClocks(10_000);
        other.read(T0, T0, lag("worker-gate minus-one"));
        other.read(T0, T0, lag("-5"));
        for (int i = 0; i < 50; i++) {
            other.read(T0, T0, lag("front-" + i + " 1"));
        }
        assertThat(other.heard(T0)).isEqualTo(T0 - 1);
        other.read(T0 + 5, T0 + 5 - 3, lag("front-49 100"));
        assertThat(other.heard(T0 + 5)).as("fronts past the bound count with the others, their claimed lag not")
                .isEqualTo(T0 + 5 - 3);
    }
}
