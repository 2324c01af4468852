package io.agora.verifier;

import io.agora.events.Strategy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;

/**
 * The rules that decide which output a job's replicas agree on. Each call looks at the votes
 * counted so far (in arrival order, one per worker) and the replicas still outstanding, and
 * answers ACCEPT (with the consensus hash), WAIT (outstanding replicas may still decide it) or
 * NEED_MORE (agreement is impossible even if every outstanding replica agreed; {@code needed}
 * extra replicas would make it possible again).
 * <ul>
 *   <li>FIRST: the first vote wins (quorum 1).</li>
 *   <li>MAJORITY: more than n/2 votes for one output (k = n/2 + 1, n = redundancy).</li>
 *   <li>K_OF_N: k = quorum votes for one output.</li>
 *   <li>REPUTATION_WEIGHTED: an output wins when the trust weight of its voters is more than
 *   {@code threshold} x the trust weight of all votes cast, and at least 2 workers voted for it
 *   (1 when n = 1). Trust weight: {@link WorkerStanding#trustWeight}. A tie at exactly the
 *   threshold does not decide, so two different outputs can never both win.</li>
 *   <li>ADAPTIVE: a job may start with fewer replicas (the matcher dispatches
 *   {@code redundancy}, which may be 1). If the worker of the first vote has a long and clean
 *   record ({@link WorkerStanding#trusted}: at least {@code adaptiveMinAgreements} agreeing
 *   verdicts and reputation at least {@code adaptiveMinReputation}) its result is accepted
 *   alone; otherwise the job falls back to {@code adaptiveFallbackQuorum}-of-n (2 by default),
 *   and NEED_MORE asks the matcher for the missing replicas.</li>
 *   <li>STAKE_WEIGHTED: as REPUTATION_WEIGHTED, each vote weighing its worker's bonded stake in
 *   micro-credits (at least 1, so votes of unstaked workers count equally among themselves and
 *   next to nothing beside a staked one): a liar must out-stake the honest voters, and loses half
 *   its stake when a dispute proves it (market's {@code Stake}).</li>
 *   <li>BFT: with n = 3f + 1 replicas ({@code f = (n - 1) / 3} faulty workers tolerated), an output
 *   wins with 2f + 1 votes.</li>
 * </ul>
 */
public final class Consensus {
    /** One replica's vote: the canonical output hash its worker reported. */
    public record Vote(String workerId, int replica, String hash) {
    }

    public enum Kind { ACCEPT, WAIT, NEED_MORE }

    public record Decision(Kind kind, String hash, int needed) {
        static Decision accept(String hash) {
            return new Decision(Kind.ACCEPT, hash, 0);
        }

        static final Decision WAIT = new Decision(Kind.WAIT, null, 0);

        static Decision needMore(int n) {
            return new Decision(Kind.NEED_MORE, null, Math.max(1, n));
        }
    }

    private final VerifierConfig cfg;

    public Consensus(VerifierConfig cfg) {
        this.cfg = cfg;
    }

    /**
     * @param redundancy  n, the replicas the job asked for
     * @param quorum      k, for K_OF_N
     * @param votes       votes counted so far, arrival order, one per worker
     * @param outstanding replicas dispatched whose outcome is not known yet
     * @param standing    the current record of a worker
     */
    public Decision decide(Strategy strategy, int redundancy, int quorum, List<Vote> votes, int outstanding,
                           Function<String, WorkerStanding> standing) {
        return decide(strategy, redundancy, quorum, votes, outstanding, standing, w -> 0L);
    }

    /** @param stakes a worker's bonded stake in micro-credits (0 when none), for STAKE_WEIGHTED */
    public Decision decide(Strategy strategy, int redundancy, int quorum, List<Vote> votes, int outstanding,
                           Function<String, WorkerStanding> standing, ToLongFunction<String> stakes) {
        int n = Math.max(1, redundancy);
        return switch (strategy) {
            case FIRST -> kOfN(1, votes, outstanding);
            case MAJORITY -> kOfN(n / 2 + 1, votes, outstanding);
            case K_OF_N -> kOfN(Math.max(1, quorum), votes, outstanding);
            case REPUTATION_WEIGHTED -> weighted(n, votes, outstanding, w -> standing.apply(w).trustWeight(cfg));
            case STAKE_WEIGHTED -> weighted(n, votes, outstanding, w -> Math.max(1L, stakes.applyAsLong(w)));
            case ADAPTIVE -> adaptive(votes, outstanding, standing);
            case BFT -> kOfN(bftQuorum(n), votes, outstanding);
        };
    }

    /** 2f + 1 of n = 3f + 1 (f = (n - 1) / 3, so a redundancy that is not 3f + 1 tolerates the f below it). */
    public static int bftQuorum(int redundancy) {
        int f = (Math.max(1, redundancy) - 1) / 3;
        return 2 * f + 1;
    }

    /** The quorum a strategy needs in the simple count sense (for disputes and reporting). */
    public int quorumOf(Strategy strategy, int redundancy, int quorum) {
        int n = Math.max(1, redundancy);
        return switch (strategy) {
            case FIRST -> 1;
            case MAJORITY -> n / 2 + 1;
            case K_OF_N -> Math.max(1, quorum);
            case REPUTATION_WEIGHTED, STAKE_WEIGHTED -> n == 1 ? 1 : 2;
            case ADAPTIVE -> cfg.adaptiveFallbackQuorum();
            case BFT -> bftQuorum(n);
        };
    }

    static Decision kOfN(int k, List<Vote> votes, int outstanding) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Vote v : votes) {
            int c = counts.merge(v.hash(), 1, Integer::sum);
            if (c >= k) {
                // the first output to reach k wins; later votes cannot take it back
                return Decision.accept(v.hash());
            }
        }
        int best = counts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        if (best + outstanding >= k) {
            return Decision.WAIT;
        }
        return Decision.needMore(k - best - outstanding);
    }

    private Decision weighted(int n, List<Vote> votes, int outstanding, ToDoubleFunction<String> weightOf) {
        int minVotes = n == 1 ? 1 : 2;
        Map<String, Double> weight = new LinkedHashMap<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        double total = 0;
        for (Vote v : votes) {
            double w = weightOf.applyAsDouble(v.workerId());
            total += w;
            weight.merge(v.hash(), w, Double::sum);
            counts.merge(v.hash(), 1, Integer::sum);
        }
        for (Map.Entry<String, Double> e : weight.entrySet()) {
            if (counts.get(e.getKey()) >= minVotes && e.getValue() > cfg.weightedThreshold() * total) {
                return Decision.accept(e.getKey());
            }
        }
        if (outstanding > 0) {
            return Decision.WAIT;
        }
        int best = counts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        return Decision.needMore(minVotes - best);
    }

    private Decision adaptive(List<Vote> votes, int outstanding, Function<String, WorkerStanding> standing) {
        if (!votes.isEmpty() && standing.apply(votes.get(0).workerId()).trusted(cfg)) {
            return Decision.accept(votes.get(0).hash());
        }
        return kOfN(cfg.adaptiveFallbackQuorum(), votes, outstanding);
    }
}
