package io.agora.verifier;

import io.agora.schemas.AgoraConfig;
import io.agora.events.Strategy;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static io.agora.verifier.Consensus.Kind.ACCEPT;
import static io.agora.verifier.Consensus.Kind.NEED_MORE;
import static io.agora.verifier.Consensus.Kind.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

class ConsensusTest {
    private final VerifierConfig cfg = VerifierConfig.defaults();
    private final Consensus consensus = new Consensus(cfg);
    private static final Function<String, WorkerStanding> NEWCOMERS = w -> WorkerStanding.NEWCOMER;

    private static Consensus.Vote v(String worker, String hash) {
        return new Consensus.Vote(worker, 0, hash);
    }

    @Test
    void stakeWeightedWeighsBondedStakeNotReputation() {
        // b and c are trusted veterans with nothing at stake; a has bonded a lot
        Function<String, WorkerStanding> veterans = w -> w.equals("a") ? WorkerStanding.NEWCOMER : new WorkerStanding(500, 100);
        Map<String, Long> bonded = Map.of("a", 9_000_000L, "d", 8_000_000L);
        List<Consensus.Vote> votes = List.of(v("a", "X"), v("b", "Y"), v("c", "Y"), v("d", "X"));
        var byStake = consensus.decide(Strategy.STAKE_WEIGHTED, 4, 2, votes, 0, veterans, w -> bonded.getOrDefault(w, 0L));
        assertThat(byStake).isEqualTo(new Consensus.Decision(ACCEPT, "X", 0));
        var byReputation = consensus.decide(Strategy.REPUTATION_WEIGHTED, 4, 2, votes, 0, veterans,
                w -> bonded.getOrDefault(w, 0L));
        assertThat(byReputation).as("the same votes weighed by reputation").isEqualTo(new Consensus.Decision(ACCEPT, "Y", 0));
        // nobody staked: every vote weighs the same, a plain majority of the weight with at least 2 votes
        assertThat(consensus.decide(Strategy.STAKE_WEIGHTED, 3, 2, List.of(v("a", "X"), v("b", "Y"), v("c", "Y")), 0,
                NEWCOMERS, w -> 0L)).isEqualTo(new Consensus.Decision(ACCEPT, "Y", 0));
        assertThat(consensus.quorumOf(Strategy.STAKE_WEIGHTED, 3, 3)).isEqualTo(2);
    }

    @Test
    void bftAcceptsTwoFPlusOneOfThreeFPlusOne() {
        assertThat(Consensus.bftQuorum(4)).isEqualTo(3);
        assertThat(Consensus.bftQuorum(7)).isEqualTo(5);
        assertThat(Consensus.bftQuorum(1)).isEqualTo(1);
        List<Consensus.Vote> twoLiars = List.of(v("a", "X"), v("b", "Y"), v("c", "Y"));
        assertThat(consensus.decide(Strategy.BFT, 4, 2, twoLiars, 1, NEWCOMERS).kind())
                .as("the quorum field does not lower 2f + 1").isEqualTo(WAIT);
        assertThat(consensus.decide(Strategy.BFT, 4, 2, List.of(v("a", "X"), v("b", "Y"), v("c", "Y"), v("d", "Y")), 0,
                NEWCOMERS)).isEqualTo(new Consensus.Decision(ACCEPT, "Y", 0));
        assertThat(consensus.decide(Strategy.BFT, 4, 3, List.of(v("a", "X"), v("b", "X"), v("c", "Y"), v("d", "Y")), 0,
                NEWCOMERS)).isEqualTo(new Consensus.Decision(NEED_MORE, null, 1));
        assertThat(consensus.quorumOf(Strategy.BFT, 7, 2)).isEqualTo(5);
    }

    @Test
    void twoOfThreeAcceptsOnTheSecondAgreeingVote() {
        assertThat(consensus.decide(Strategy.K_OF_N, 3, 2, List.of(v("a", "X")), 2, NEWCOMERS).kind()).isEqualTo(WAIT);
        var d = consensus.decide(Strategy.K_OF_N, 3, 2, List.of(v("a", "X"), v("b", "Y"), v("c", "X")), 0, NEWCOMERS);
        assertThat(d.kind()).isEqualTo(ACCEPT);
        assertThat(d.hash()).isEqualTo("X");
    }

    @Test
    void twoOfThreeWithThreeDifferentOutputsNeedsOneMoreReplica() {
        var d = consensus.decide(Strategy.K_OF_N, 3, 2, List.of(v("a", "X"), v("b", "Y"), v("c", "Z")), 0, NEWCOMERS);
        assertThat(d.kind()).isEqualTo(NEED_MORE);
        assertThat(d.needed()).isEqualTo(1);
    }

    @Test
    void twoOfThreeWaitsWhileAnOutstandingReplicaCouldStillAgree() {
        var d = consensus.decide(Strategy.K_OF_N, 3, 2, List.of(v("a", "X"), v("b", "Y")), 1, NEWCOMERS);
        assertThat(d.kind()).isEqualTo(WAIT);
    }

    @Test
    void threeOfFive() {
        List<Consensus.Vote> two = List.of(v("a", "X"), v("b", "X"), v("c", "Y"));
        assertThat(consensus.decide(Strategy.K_OF_N, 5, 3, two, 2, NEWCOMERS).kind()).isEqualTo(WAIT);
        List<Consensus.Vote> three = List.of(v("a", "X"), v("b", "X"), v("c", "Y"), v("d", "X"));
        assertThat(consensus.decide(Strategy.K_OF_N, 5, 3, three, 1, NEWCOMERS)).isEqualTo(new Consensus.Decision(ACCEPT, "X", 0));
        // X X Y Y Z: best 2, nothing outstanding: one more replica could make 3
        List<Consensus.Vote> split = List.of(v("a", "X"), v("b", "X"), v("c", "Y"), v("d", "Y"), v("e", "Z"));
        assertThat(consensus.decide(Strategy.K_OF_N, 5, 3, split, 0, NEWCOMERS)).isEqualTo(new Consensus.Decision(NEED_MORE, null, 1));
        // X Y Z with two outstanding: at most 1 + 2 = 3, still possible
        assertThat(consensus.decide(Strategy.K_OF_N, 5, 3, List.of(v("a", "X"), v("b", "Y"), v("c", "Z")), 2, NEWCOMERS).kind())
                .isEqualTo(WAIT);
        // X Y Z W with one outstanding: at most 2, needs one more
        assertThat(consensus.decide(Strategy.K_OF_N, 5, 3, List.of(v("a", "X"), v("b", "Y"), v("c", "Z"), v("d", "W")), 1, NEWCOMERS))
                .isEqualTo(new Consensus.Decision(NEED_MORE, null, 1));
    }

    @Test
    void majorityNeedsMoreThanHalfOfRedundancy() {
        // n = 4: majority is 3
        List<Consensus.Vote> two = List.of(v("a", "X"), v("b", "X"));
        assertThat(consensus.decide(Strategy.MAJORITY, 4, 0, two, 2, NEWCOMERS).kind()).isEqualTo(WAIT);
        List<Consensus.Vote> three = List.of(v("a", "X"), v("b", "X"), v("c", "X"));
        assertThat(consensus.decide(Strategy.MAJORITY, 4, 0, three, 1, NEWCOMERS).kind()).isEqualTo(ACCEPT);
        // n = 3: majority is 2, quorum field ignored
        assertThat(consensus.decide(Strategy.MAJORITY, 3, 3, two, 1, NEWCOMERS).kind()).isEqualTo(ACCEPT);
    }

    @Test
    void firstValidVoteWins() {
        var d = consensus.decide(Strategy.FIRST, 3, 2, List.of(v("a", "X")), 2, NEWCOMERS);
        assertThat(d).isEqualTo(new Consensus.Decision(ACCEPT, "X", 0));
        assertThat(consensus.decide(Strategy.FIRST, 1, 1, List.of(), 1, NEWCOMERS).kind()).isEqualTo(WAIT);
        assertThat(consensus.decide(Strategy.FIRST, 1, 1, List.of(), 0, NEWCOMERS).kind()).isEqualTo(NEED_MORE);
    }

    @Test
    void reputationWeightedFollowsTheTrustedSide() {
        // a and b (newcomers, weight 1 each) say X; c and d (reputation 300, weight 4 each) say Y
        Function<String, WorkerStanding> standing = w -> w.equals("c") || w.equals("d")
                ? new WorkerStanding(300, 60) : WorkerStanding.NEWCOMER;
        List<Consensus.Vote> votes = List.of(v("a", "X"), v("b", "X"), v("c", "Y"), v("d", "Y"));
        // X alone (2 of total 2) was decided before c and d voted; with all four, Y has 8 of 10
        assertThat(consensus.decide(Strategy.REPUTATION_WEIGHTED, 4, 0, votes.subList(0, 2), 2, standing).hash()).isEqualTo("X");
        List<Consensus.Vote> reordered = List.of(v("c", "Y"), v("a", "X"), v("b", "X"), v("d", "Y"));
        assertThat(consensus.decide(Strategy.REPUTATION_WEIGHTED, 4, 0, reordered, 0, standing).hash()).isEqualTo("Y");
    }

    @Test
    void reputationWeightedNeedsTwoAgreeingVotesAndMoreThanTheThreshold() {
        Function<String, WorkerStanding> standing = w -> w.equals("heavy") ? new WorkerStanding(900, 0) : WorkerStanding.NEWCOMER;
        // one heavy vote alone is not enough when n > 1
        assertThat(consensus.decide(Strategy.REPUTATION_WEIGHTED, 3, 0, List.of(v("heavy", "X")), 2, standing).kind()).isEqualTo(WAIT);
        // two equal newcomers disagreeing: 1 is not more than 0.5 x 2; nothing outstanding, ask for one more
        assertThat(consensus.decide(Strategy.REPUTATION_WEIGHTED, 2, 0, List.of(v("a", "X"), v("b", "Y")), 0, NEWCOMERS))
                .isEqualTo(new Consensus.Decision(NEED_MORE, null, 1));
        // n = 1: a single vote decides
        assertThat(consensus.decide(Strategy.REPUTATION_WEIGHTED, 1, 0, List.of(v("a", "X")), 0, NEWCOMERS).kind()).isEqualTo(ACCEPT);
        // X, X from newcomers against a heavy Y (weight 10): 2 of 12 is not enough
        List<Consensus.Vote> votes = List.of(v("a", "X"), v("heavy", "Y"), v("b", "X"));
        assertThat(consensus.decide(Strategy.REPUTATION_WEIGHTED, 3, 0, votes, 0, standing).kind()).isEqualTo(NEED_MORE);
    }

    @Test
    void adaptiveAcceptsOneResultFromALongCleanRecord() {
        Function<String, WorkerStanding> standing = w -> switch (w) {
            case "veteran" -> new WorkerStanding(150, 30);
            case "hasty" -> new WorkerStanding(150, 5);      // good reputation, short record
            case "tarnished" -> new WorkerStanding(40, 30);  // long record, low reputation
            default -> WorkerStanding.NEWCOMER;
        };
        assertThat(consensus.decide(Strategy.ADAPTIVE, 1, 1, List.of(v("veteran", "X")), 0, standing))
                .isEqualTo(new Consensus.Decision(ACCEPT, "X", 0));
        assertThat(consensus.decide(Strategy.ADAPTIVE, 1, 1, List.of(v("hasty", "X")), 0, standing))
                .isEqualTo(new Consensus.Decision(NEED_MORE, null, 1));
        assertThat(consensus.decide(Strategy.ADAPTIVE, 1, 1, List.of(v("tarnished", "X")), 0, standing).kind()).isEqualTo(NEED_MORE);
        // fallback is 2-of-n
        assertThat(consensus.decide(Strategy.ADAPTIVE, 2, 1, List.of(v("a", "X")), 1, standing).kind()).isEqualTo(WAIT);
        assertThat(consensus.decide(Strategy.ADAPTIVE, 2, 1, List.of(v("a", "X"), v("b", "X")), 0, standing).kind()).isEqualTo(ACCEPT);
        // only the first vote's worker matters
        assertThat(consensus.decide(Strategy.ADAPTIVE, 2, 1, List.of(v("a", "X"), v("veteran", "Y")), 0, standing).kind())
                .isEqualTo(NEED_MORE);
    }

    @Test
    void adaptiveThresholdsAreConfigurable() {
        VerifierConfig lenient = VerifierConfig.from(AgoraConfig.of(Map.of(
                "agora.verifier.adaptive.min.agreements", "1", "agora.verifier.adaptive.min.reputation", "5")));
        Consensus c = new Consensus(lenient);
        assertThat(c.decide(Strategy.ADAPTIVE, 1, 1, List.of(v("w", "X")), 0, w -> new WorkerStanding(5, 1)).kind()).isEqualTo(ACCEPT);
    }

    @Test
    void trustWeightHasAFloor() {
        assertThat(new WorkerStanding(-1000, 0).trustWeight(cfg)).isEqualTo(0.1);
        assertThat(WorkerStanding.NEWCOMER.trustWeight(cfg)).isEqualTo(1.0);
        assertThat(new WorkerStanding(100, 0).trustWeight(cfg)).isEqualTo(2.0);
    }
}
