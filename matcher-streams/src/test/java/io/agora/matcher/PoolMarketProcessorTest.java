package io.agora.matcher;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The pool stage's reading of its own lag. */
class PoolMarketProcessorTest {
    static final long T0 = 1_700_000_000_000L;

    @Test
    void theStageHasHeardUpToItsLastEventsAgeWhichCountsDownWhileNothingArrives() {
        // the last event was 12 s old when read at T0
        assertThat(PoolMarketProcessor.heard(T0, 12_000, T0)).isEqualTo(T0 - 12_000);
        // 5 s with nothing read (a backlog would have brought events): 7 s of lag are left
        assertThat(PoolMarketProcessor.heard(T0 + 5_000, 12_000, T0)).isEqualTo(T0 + 5_000 - 7_000);
        // after the whole lag the stage counts as caught up, and stays so
        assertThat(PoolMarketProcessor.heard(T0 + 12_000, 12_000, T0)).isEqualTo(T0 + 12_000);
        assertThat(PoolMarketProcessor.heard(T0 + 30_000, 12_000, T0)).isEqualTo(T0 + 30_000);
        assertThat(PoolMarketProcessor.heard(T0, 0, T0)).as("no lag").isEqualTo(T0);
    }
}
