package io.agora.infra.chaos;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StallsTest {
    static final Instant T0 = Instant.parse("2026-12-07T01:00:00Z");

    static Instant at(long s) {
        return T0.plusSeconds(s);
    }

    @Test
    void theLongestGapCountsFromTheFaultBetweenEventsAndToTheWindowsEnd() {
        List<Instant> events = List.of(at(-5), at(2), at(3), at(40), at(41), at(90));
        assertThat(Stalls.longestGap(events, at(0), at(60))).isEqualTo(Duration.ofSeconds(37));
        assertThat(Stalls.longestGap(events, at(41), at(100))).isEqualTo(Duration.ofSeconds(49));
        assertThat(Stalls.longestGap(events, at(0), at(30))).isEqualTo(Duration.ofSeconds(27));
        assertThat(Stalls.longestGap(List.of(), at(0), at(30))).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void theFirstEventAfterAFaultIgnoresEarlierOnes() {
        List<Instant> events = List.of(at(-5), at(2), at(40));
        assertThat(Stalls.firstAfter(events, at(0))).isEqualTo(at(2));
        assertThat(Stalls.firstAfter(events, at(3))).isEqualTo(at(40));
        assertThat(Stalls.firstAfter(events, at(41))).isNull();
    }
}
