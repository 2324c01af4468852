package io.agora.market;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PohChallengeTest {
    static final byte[] KEY = "the market's challenge key, 32 b".getBytes(StandardCharsets.US_ASCII);
    static final long T = 1_700_000_000_000L;

    @Test
    void aChallengeNamesItsWorkersAndItsIssueAndOnlyTheKeyMakesItsNonce() {
        String seed = PohChallenge.issue(KEY, List.of("w-b", "w-a", "w-a"), T);
        assertThat(seed).startsWith("poh1:" + T + ":w-a,w-b:");
        assertThat(PohChallenge.parse(seed)).isEqualTo(new PohChallenge.Parsed(T, List.of("w-a", "w-b")));
        assertThat(PohChallenge.check(KEY, seed, "w-a", T + 10)).isNull();
        assertThat(PohChallenge.check(KEY, seed, "w-b", T + 10)).isNull();
        assertThat(PohChallenge.check(KEY, seed, "w-c", T + 10)).contains("other workers");
        byte[] other = KEY.clone();
        other[0] ^= 1;
        assertThat(PohChallenge.check(other, seed, "w-a", T + 10)).contains("not issued by this market");
        // a worker adding itself to someone's challenge breaks the nonce
        String widened = seed.replace("w-a,w-b", "w-a,w-b,w-c");
        assertThat(PohChallenge.check(KEY, widened, "w-c", T + 10)).contains("not issued by this market");
        String later = seed.replace(":" + T + ":", ":" + (T + 60_000) + ":");
        assertThat(PohChallenge.check(KEY, later, "w-a", T + 60_010)).contains("not issued by this market");
    }

    @Test
    void theLongestChallengeIsMaxSeedCharacters() {
        List<String> ids = java.util.stream.IntStream.range(0, PohChallenge.MAX_WORKERS)
                .mapToObj(i -> String.format("%0" + Limits.ID_MAX + "d", i)).toList();
        assertThat(PohChallenge.issue(KEY, ids, Long.MAX_VALUE)).hasSize(PohChallenge.MAX_SEED);
    }

    @Test
    void aChallengeIsAnsweredWithinItsWindow() {
        String seed = PohChallenge.issue(KEY, List.of("w"), T);
        assertThat(PohChallenge.check(KEY, seed, "w", T + PohChallenge.WINDOW_MS)).isNull();
        assertThat(PohChallenge.check(KEY, seed, "w", T + PohChallenge.WINDOW_MS + 1)).contains("more than");
        assertThat(PohChallenge.check(KEY, seed, "w", T - PohChallenge.SKEW_MS)).isNull();
        assertThat(PohChallenge.check(KEY, seed, "w", T - PohChallenge.SKEW_MS - 1)).contains("after the proof arrived");
    }

    @Test
    void whatIsNotAChallengeIsRefusedNotThrown() {
        for (String s : new String[]{null, "", "w:3", "poh1:x:w:" + "0".repeat(32), "poh1:1:w:short", "poh2:1:w:" + "0".repeat(32)}) {
            assertThat(PohChallenge.check(KEY, s, "w", T)).as(String.valueOf(s)).contains("no market challenge");
        }
        assertThatThrownBy(() -> PohChallenge.issue(KEY, List.of(), T)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PohChallenge.issue(KEY, List.of("a:b"), T)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theTrustedScoreIsBoundedByTheTimeFromIssueToArrival() {
        assertThat(PohChallenge.boundedScore(500, 1_000_000, T, T + 1_000)).isEqualTo(500);
        assertThat(PohChallenge.boundedScore(5_000, 1_000_000, T, T + 1_000)).isEqualTo(1_000);
        assertThat(PohChallenge.boundedScore(5_000, 1_000_000, T, T)).isEqualTo(5_000);
    }

    @Test
    void aVerdictChecksTheChallengeThenTheChain() {
        String seed = PohChallenge.issue(KEY, List.of("w"), T);
        ProofOfHardware.Proof p = ProofOfHardware.ofBlocks(seed, 8);
        PohChallenge.Verdict ok = PohChallenge.verdict(KEY, "w", p.score(), p.toEvent(), T + 10_000, 3);
        assertThat(ok.refused()).isNull();
        assertThat(ok.score()).isPositive().isLessThanOrEqualTo(p.steps() / 10_000.0 + 0.1);
        assertThat(PohChallenge.verdict(KEY, "v", p.score(), p.toEvent(), T + 10_000, 3).refused()).contains("other workers");
        assertThat(PohChallenge.verdict(KEY, "w", p.score(), null, T + 10_000, 3)).isEqualTo(new PohChallenge.Verdict(0, "no proof"));
        assertThat(PohChallenge.verdict(KEY, "w", 0, null, T, 3)).isEqualTo(new PohChallenge.Verdict(0, null));
        ProofOfHardware.Proof local = ProofOfHardware.ofBlocks(ProofOfHardware.seed("w", 1), 8);
        assertThat(PohChallenge.verdict(KEY, "w", local.score(), local.toEvent(), T, 3).refused()).contains("no market challenge");
    }
}
