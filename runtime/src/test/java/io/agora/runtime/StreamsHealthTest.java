package io.agora.runtime;

import org.apache.kafka.streams.KafkaStreams.State;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StreamsHealthTest {
    static final long STALL = 60_000;

    @Test
    void runningWithAllThreadsAndNoBacklogIsUp() {
        assertThat(StreamsHealth.rules(State.RUNNING, 2, 2, 0, 10 * STALL, STALL).up()).isTrue();
        assertThat(StreamsHealth.rules(State.REBALANCING, 1, 1, 5, STALL - 1, STALL).up()).isTrue();
    }

    @Test
    void everyStateButRunningAndRebalancingIsDown() {
        for (State s : State.values()) {
            boolean expectUp = s == State.RUNNING || s == State.REBALANCING;
            StreamsHealth.Verdict v = StreamsHealth.rules(s, 1, 1, 0, 0, STALL);
            assertThat(v.up()).as(s.name()).isEqualTo(expectUp);
            if (!expectUp) {
                assertThat(v.reason()).isEqualTo("state " + s);
            }
        }
    }

    @Test
    void aDeadStreamThreadIsDown() {
        StreamsHealth.Verdict v = StreamsHealth.rules(State.RUNNING, 1, 2, 0, 0, STALL);
        assertThat(v.up()).isFalse();
        assertThat(v.reason()).isEqualTo("1 of 2 stream threads alive");
    }

    @Test
    void waitingInputWithoutProgressForTheStallTimeIsDown() {
        StreamsHealth.Verdict v = StreamsHealth.rules(State.RUNNING, 1, 1, 42, STALL, STALL);
        assertThat(v.up()).isFalse();
        assertThat(v.reason()).isEqualTo("no progress for 60 s with 42 input records waiting");
    }

    @Test
    void progressIsRememberedAcrossReadings() {
        StreamsHealth h = new StreamsHealth(STALL);
        assertThat(h.judge(reading(100, 0, 0)).up()).isTrue();
        // input arrives and is processed: progress
        assertThat(h.judge(reading(150, 10, 30_000)).up()).isTrue();
        // the same record fails over and over: the count stands still while input waits
        assertThat(h.judge(reading(150, 10, 60_000)).up()).isTrue();
        StreamsHealth.Verdict stalled = h.judge(reading(150, 10, 90_000));
        assertThat(stalled.up()).isFalse();
        assertThat(stalled.reason()).startsWith("no progress for 60 s");
        // once it moves again it is up
        assertThat(h.judge(reading(151, 9, 91_000)).up()).isTrue();
    }

    @Test
    void anIdleAppIsNeverStalled() {
        StreamsHealth h = new StreamsHealth(STALL);
        assertThat(h.judge(reading(7, 0, 0)).up()).isTrue();
        assertThat(h.judge(reading(7, 0, 10 * STALL)).up()).isTrue();
        // input arriving after a long idle time starts the stall clock then, not at the last record
        assertThat(h.judge(reading(7, 3, 10 * STALL + 1)).up()).isTrue();
    }

    @Test
    void aReplacedThreadRestartingItsCountIsNotProgress() {
        StreamsHealth h = new StreamsHealth(STALL);
        h.judge(reading(500, 4, 0));
        assertThat(h.judge(reading(0, 4, STALL / 2)).up()).isTrue();
        assertThat(h.judge(reading(0, 4, STALL)).up()).isFalse();
    }

    static StreamsHealth.Reading reading(long processed, long pending, long at) {
        return new StreamsHealth.Reading(State.RUNNING, 1, 1, processed, pending, at);
    }
}
