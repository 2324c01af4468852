package io.agora.worker;

import io.agora.market.PohChallenge;
import io.agora.market.ProofOfHardware;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ProofFreshnessTest {
    static final byte[] KEY = "the freshness test's market key!".getBytes(StandardCharsets.US_ASCII);
    static final String CHALLENGE = PohChallenge.issue(KEY, List.of("w1"), 1_000_000);
    static final ProofOfHardware.Proof MARKETS = ProofOfHardware.timed(CHALLENGE, 1);
    static final ProofOfHardware.Proof LOCAL = ProofOfHardware.timed(ProofOfHardware.seed("w1", 7), 1);

    @Test
    void aProofIsMadeAgainWhenItsChallengeIsOlderThanAQuarterOfTheWindow() {
        assertThat(ProofFreshness.MAX_AGE_MS).isEqualTo(PohChallenge.WINDOW_MS / 4);
        assertThat(ProofFreshness.renew(null, 0, false)).isTrue();
        assertThat(ProofFreshness.renew(MARKETS, ProofFreshness.MAX_AGE_MS, true)).isFalse();
        assertThat(ProofFreshness.renew(MARKETS, ProofFreshness.MAX_AGE_MS + 1, false)).isTrue();
        assertThat(ProofFreshness.renew(MARKETS, 146_000, false)).isTrue();
        assertThat(ProofFreshness.renew(MARKETS, -1, false)).as("a clock that went back").isTrue();
    }

    @Test
    void aLocalSeedIsMadeAgainOnlyWhenTheMarketIsKnownToAnswer() {
        assertThat(ProofFreshness.renew(LOCAL, 0, false)).isFalse();
        assertThat(ProofFreshness.renew(LOCAL, 0, true)).isTrue();
    }

    @Test
    void aRegistrationIsStaleWhenTheBrokerAppendedItPastTheChallengesWindow() {
        assertThat(ProofFreshness.staleOnArrival(CHALLENGE, 1_000_000 + PohChallenge.WINDOW_MS)).isFalse();
        assertThat(ProofFreshness.staleOnArrival(CHALLENGE, 1_000_000 + 146_000)).isTrue();
        assertThat(ProofFreshness.staleOnArrival(CHALLENGE, -1)).as("no broker time").isFalse();
        assertThat(ProofFreshness.staleOnArrival(LOCAL.seed(), Long.MAX_VALUE)).as("no challenge to be late for").isFalse();
    }
}
