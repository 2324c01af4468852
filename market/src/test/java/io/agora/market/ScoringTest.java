package io.agora.market;

import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.events.WorkerCapabilities;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The stake, proof-of-hardware and locality terms of {@link Scoring}, and what they change in matching. */
class ScoringTest {
    private static final String DIGEST = "sha256:" + "0f".repeat(32);
    /** A 10 s, 1-cpu job at max price 1000: its budget per replica is 10,000 micro-credits. */
    private static final JobSpec SPEC = JobSpec.newBuilder().setImage("registry.local/tool@" + DIGEST)
            .setCommand(List.of("true")).setTimeoutMs(10_000).setCpus(1).setMemoryMb(128).build();
    private static final Requirements REQ = Requirements.newBuilder().setMaxPricePerCpuSecondMicros(1000).build();

    private static WorkerCapabilities caps(double pohScore) {
        return WorkerCapabilities.newBuilder().setArch("x86_64").setCpuCores(1).setCpuThreads(1).setMemoryMb(128)
                .setPricePerCpuSecondMicros(500).setMaxConcurrent(1).setBenchmarkScore(pohScore).build();
    }

    private static WorkerView view(String id, double pohScore, long stake, Set<String> digests) {
        return new WorkerView(id, "public", true, caps(pohScore), 500, 1, 0, List.of(0), 0, -1, stake, digests);
    }

    private static MatchRequest request(JobSpec spec) {
        return new MatchRequest(spec, REQ, 1, Set.of(), null);
    }

    @Test
    void stakeCountsAgainstWhatTheReplicaMayEarn() {
        assertThat(Scoring.stakeNorm(0, 10_000)).isEqualTo(0.0);
        assertThat(Scoring.stakeNorm(10_000, 10_000)).isCloseTo(0.5, within(1e-12));
        assertThat(Scoring.stakeNorm(90_000, 10_000)).isCloseTo(0.9, within(1e-12));
        assertThat(Scoring.stakeNorm(Long.MAX_VALUE, Long.MAX_VALUE)).isCloseTo(0.5, within(1e-12));
        assertThat(Scoring.terms(request(SPEC), view("w", 0, 30_000, Set.of())).stake()).isCloseTo(0.75, within(1e-12));
    }

    @Test
    void onlyACheckedProofOfHardwareScores() {
        assertThat(Scoring.pohNorm(0)).isEqualTo(0.0);
        assertThat(Scoring.pohNorm(-5)).isEqualTo(0.0);
        assertThat(Scoring.pohNorm(Double.NaN)).isEqualTo(0.0);
        assertThat(Scoring.pohNorm(Scoring.POH_REFERENCE)).isCloseTo(0.5, within(1e-12));
        assertThat(Scoring.pohNorm(3 * Scoring.POH_REFERENCE)).isCloseTo(0.75, within(1e-12));
    }

    @Test
    void localityIsTheJobsPinnedDigestHeld() {
        assertThat(Scoring.imageDigest("registry.local/tool@" + DIGEST)).isEqualTo(DIGEST);
        assertThat(Scoring.imageDigest("alpine:3")).isNull();
        assertThat(Scoring.imageDigest("alpine@")).isNull();
        assertThat(Scoring.terms(request(SPEC), view("w", 0, 0, Set.of(DIGEST))).locality()).isEqualTo(1.0);
        assertThat(Scoring.terms(request(SPEC), view("w", 0, 0, Set.of("sha256:" + "aa".repeat(32)))).locality()).isEqualTo(0.0);
        JobSpec tagged = JobSpec.newBuilder(SPEC).setImage("alpine:3").build();
        assertThat(Scoring.terms(request(tagged), view("w", 0, 0, Set.of(DIGEST))).locality()).isEqualTo(0.0);
    }

    @Test
    void theNewTermsAreShownAndWeighedByTheirOwnWeights() {
        WorkerView w = view("w", Scoring.POH_REFERENCE, 10_000, Set.of(DIGEST));
        Scoring.Terms t = Scoring.terms(request(SPEC), w);
        assertThat(t.explain()).endsWith("stake=0.50 poh=0.50 locality=1");
        Scoring.Weights only = new Scoring.Weights(0, 0, 0, 0, 0, 0.2, 0.3, 0.5);
        assertThat(Scoring.score(request(SPEC), w, only)).isCloseTo(0.2 * 0.5 + 0.3 * 0.5 + 0.5, within(1e-12));
        assertThat(t.total(only)).isCloseTo(Scoring.score(request(SPEC), w, only), within(1e-12));
        // the five-weight constructor leaves them out
        assertThat(Scoring.score(request(SPEC), w, new Scoring.Weights(0, 0, 0, 0, 0))).isEqualTo(0.0);
    }

    @Test
    void eachNewTermAloneChangesAPlacement() {
        WorkerView plain = view("a-plain", 0, 0, Set.of());
        MatchRequest req = request(SPEC);
        Scoring.Weights d = Scoring.Weights.defaults();
        // equal otherwise, the worker id decides ...
        assertThat(Matching.best(req, List.of(plain, view("b", 0, 0, Set.of())), d).get(0).worker().workerId())
                .isEqualTo("a-plain");
        // ... unless the other one has a bond, a checked proof, or the image
        for (WorkerView better : List.of(view("b-staked", 0, 5_000, Set.of()), view("b-proven", 800, 0, Set.of()),
                view("b-local", 0, 0, Set.of(DIGEST)))) {
            List<Matching.Choice> best = Matching.best(req, List.of(plain, better), d);
            assertThat(best.get(0).worker().workerId()).isEqualTo(better.workerId());
            assertThat(MatchPreview.of(req, List.of(plain, better), d).chosen().get(0).explain())
                    .isEqualTo(Scoring.terms(req, better).explain());
        }
    }
}
