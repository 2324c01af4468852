package io.agora.runtime;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class PunctuationsTest {

    @Test
    void tasksInitialisedAtDifferentMomentsPunctuateAtTheSameInstants() {
        Duration second = Duration.ofSeconds(1);
        assertThat(Punctuations.anchor(1_700_000_000_123L, second)).isEqualTo(Instant.ofEpochMilli(1_700_000_001_000L));
        assertThat(Punctuations.anchor(1_700_000_000_987L, second)).isEqualTo(Instant.ofEpochMilli(1_700_000_001_000L));
    }

    @Test
    void theFirstPunctuationIsNeverBeforeOrAtNowAndAtMostOneIntervalAway() {
        assertThat(Punctuations.anchor(1_700_000_000_000L, Duration.ofSeconds(1)))
                .isEqualTo(Instant.ofEpochMilli(1_700_000_001_000L));
        assertThat(Punctuations.anchor(1_700_000_000_001L, Duration.ofMillis(250)))
                .isEqualTo(Instant.ofEpochMilli(1_700_000_000_250L));
        assertThat(Punctuations.anchor(5, Duration.ZERO)).as("a zero interval counts as 1 ms").isEqualTo(Instant.ofEpochMilli(6));
    }
}
