package io.agora.ingest;

import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.events.WorkerCapabilities;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.Problem;
import io.agora.ingest.auth.KeyHasher;
import io.agora.ingest.jobs.JobRequestRules;
import io.agora.ingest.jobs.JobService;
import io.agora.ingest.jobs.RateLimiter;
import io.agora.ingest.jobs.SubmitJob;
import io.agora.ingest.jobs.TokenBucket;
import io.agora.ingest.config.IngestSettings;
import io.agora.ingest.market.MarketView;
import io.agora.ingest.market.WorkerRegistry;
import io.agora.ingest.market.WorkerState;
import io.agora.market.MarketRules;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Plain tests of the API's business rules: validation, rate limiting, key hashing, scoring. */
class RulesTest {
    private static SubmitJob job(String image, List<String> command, Integer n, Integer k, Integer maxTotal, Long price) {
        return new SubmitJob(image, command, null, null, null, null, null, null, null, n, k, null, maxTotal, null, null,
                null, null, price, null, null, null, null);
    }

    @Test
    void aValidJobGetsTheDefaults() {
        SubmitJob j = job("busybox", List.of("echo", "hi"), null, null, null, 5L);
        assertThat(JobRequestRules.problems(j)).isEmpty();
        var e = JobRequestRules.toEvent(j, "job", "c", null, "ev", java.time.Instant.EPOCH);
        assertThat(e.getSpec().getTimeoutMs()).isEqualTo(60_000);
        assertThat(e.getSpec().getMemoryMb()).isEqualTo(128);
        assertThat(e.getRedundancy()).isEqualTo(3);
        assertThat(e.getQuorum()).isEqualTo(2);
        assertThat(e.getMaxTotalResults()).isEqualTo(6);
        assertThat(e.getStrategy()).isEqualTo(io.agora.events.Strategy.K_OF_N);
        assertThat(e.getRequirements().getPool()).isEqualTo("public");
    }

    @Test
    void gpuAndMemoryCeilingsAreOptionalNonNegativeAndReachTheEvent() {
        java.util.function.BiFunction<Long, Long, SubmitJob> priced = (gpu, gb) -> new SubmitJob("busybox", List.of("x"),
                null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, 5L,
                new SubmitJob.JobRequirements(null, null, null, null, null, null, null, null, null, null, null, null, gpu, gb),
                null, null, null);
        assertThat(JobRequestRules.problems(priced.apply(-1L, -2L))).extracting(Problem::field)
                .containsExactly("requirements.maxPricePerGpuSecondMicros", "requirements.maxPricePerGbSecondMicros");
        var r = JobRequestRules.toEvent(priced.apply(4_000L, 30L), "job", "c", null, "ev", java.time.Instant.EPOCH)
                .getRequirements();
        assertThat(r.getMaxPricePerGpuSecondMicros()).isEqualTo(4_000);
        assertThat(r.getMaxPricePerGbSecondMicros()).isEqualTo(30);
        assertThat(JobRequestRules.toEvent(job("busybox", List.of("x"), null, null, null, 5L), "job", "c", null, "ev",
                java.time.Instant.EPOCH).getRequirements().getMaxPricePerGbSecondMicros()).isZero();
    }

    private static SubmitJob withInputs(List<SubmitJob.Input> inputs) {
        return new SubmitJob("busybox", List.of("x"), null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, 1L, null, null, inputs, null);
    }

    @Test
    void inputsAreRelativePlainPathsOnceEachWithAHash() {
        String sha = "ab".repeat(32);
        SubmitJob ok = withInputs(List.of(new SubmitJob.Input("data/train.csv", sha), new SubmitJob.Input("model.bin", sha)));
        assertThat(JobRequestRules.problems(ok)).isEmpty();
        var spec = JobRequestRules.spec(ok);
        assertThat(spec.getInputs()).extracting(i -> i.getPath() + "=" + i.getSha256())
                .containsExactly("data/train.csv=" + sha, "model.bin=" + sha);

        List<Problem> p = JobRequestRules.problems(withInputs(java.util.Arrays.asList(
                new SubmitJob.Input("/etc/passwd", sha), new SubmitJob.Input("a/../b", sha),
                new SubmitJob.Input("x", "ABC"), new SubmitJob.Input("x", sha), null)));
        assertThat(p).extracting(Problem::field).containsExactly("inputs[0].path", "inputs[1].path", "inputs[2].sha256",
                "inputs[3].path", "inputs[4]");
        assertThat(p.get(3).message()).contains("named twice");
        assertThat(JobRequestRules.problems(withInputs(java.util.Collections.nCopies(JobRequestRules.MAX_INPUTS + 1,
                new SubmitJob.Input("x", sha))))).extracting(Problem::field).containsExactly("inputs");
    }

    @Test
    void singleReplicaDefaultsToQuorumOne() {
        SubmitJob j = job("busybox", List.of("true"), 1, null, null, 5L);
        assertThat(JobRequestRules.problems(j)).isEmpty();
        assertThat(JobRequestRules.quorum(j)).isEqualTo(1);
        assertThat(JobRequestRules.maxTotalResults(j)).isEqualTo(2);
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        List<Problem> p = JobRequestRules.problems(job(null, List.of(), 3, 4, 2, 0L));
        assertThat(p).extracting(Problem::field)
                .containsExactlyInAnyOrder("image", "command", "quorum", "maxTotalResults", "maxPricePerCpuSecondMicros");
        assertThat(JobRequestRules.problems(job("busybox", List.of("x"), 16, null, null, 1L)))
                .extracting(Problem::field).containsExactly("redundancy");
    }

    private static SubmitJob withStrategy(String strategy, Integer n, Integer k) {
        return new SubmitJob("busybox", List.of("x"), null, null, null, null, null, null, null, n, k, strategy, null,
                null, null, null, null, 1L, null, null, null, null);
    }

    private static SubmitJob atLevel(String verification, Integer n, String strategy) {
        return new SubmitJob("busybox", List.of("x"), null, null, null, null, null, null, null, n, null, strategy, null,
                null, null, null, null, 1L, null, null, null, verification);
    }

    @Test
    void aVerificationLevelSetsReplicasQuorumStrategyAndTheEscrowBound() {
        var none = JobRequestRules.toEvent(atLevel("none", null, null), "j", "c", null, "e", java.time.Instant.EPOCH);
        assertThat(List.of(none.getRedundancy(), none.getQuorum(), none.getMaxTotalResults())).containsExactly(1, 1, 1);
        assertThat(none.getStrategy()).isEqualTo(io.agora.events.Strategy.FIRST);
        assertThat(JobRequestRules.problems(atLevel("none", null, null), pool -> false)).extracting(Problem::field)
                .as("no verification only in a trusted pool").containsExactly("redundancy");
        assertThat(JobRequestRules.problems(atLevel("none", null, null), pool -> true)).isEmpty();

        var hash = JobRequestRules.toEvent(atLevel("hash", null, null), "j", "c", null, "e", java.time.Instant.EPOCH);
        assertThat(List.of(hash.getRedundancy(), hash.getQuorum(), hash.getMaxTotalResults())).containsExactly(2, 2, 3);
        assertThat(hash.getStrategy()).isEqualTo(io.agora.events.Strategy.K_OF_N);

        var full = JobRequestRules.toEvent(atLevel("full", null, null), "j", "c", null, "e", java.time.Instant.EPOCH);
        assertThat(List.of(full.getRedundancy(), full.getQuorum(), full.getMaxTotalResults())).containsExactly(4, 3, 7);
        assertThat(full.getStrategy()).isEqualTo(io.agora.events.Strategy.BFT);

        assertThat(JobRequestRules.problems(atLevel("full", 3, "first"))).extracting(Problem::field, Problem::message)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("redundancy", "conflicts with verification full (4)"),
                        org.assertj.core.groups.Tuple.tuple("strategy", "conflicts with verification full (bft)"));
        assertThat(JobRequestRules.problems(atLevel("paranoid", null, null))).extracting(Problem::field)
                .containsExactly("verification");
    }

    @Test
    void aBftJobWithoutRedundancyTakesThePoolsFAndOneBelowThePoolsFIsRefusedWithEveryProblem() {
        MarketRules rules = MarketRules.from(io.agora.schemas.AgoraConfig.of(Map.of("agora.pool.public.bft.f", "2")));
        assertThat(rules.bftFaults("public")).isEqualTo(2);
        assertThat(rules.bftFaults("other")).as("unset: f = 1").isEqualTo(1);

        SubmitJob filled = JobRequestRules.withPoolFaults(withStrategy("bft", null, null), rules.bftFaults("public"));
        assertThat(JobRequestRules.redundancy(filled)).as("3f + 1 with the pool's f").isEqualTo(7);
        assertThat(JobRequestRules.quorum(filled)).as("2f + 1").isEqualTo(5);
        assertThat(JobRequestRules.maxTotalResults(filled)).isEqualTo(14);
        assertThat(JobRequestRules.problems(filled, pool -> false, rules::bftFaults)).isEmpty();
        SubmitJob chosen = withStrategy("bft", 10, null);
        assertThat(JobRequestRules.withPoolFaults(chosen, 2)).as("the client chose f = 3 itself").isSameAs(chosen);
        assertThat(JobRequestRules.problems(chosen, pool -> false, rules::bftFaults)).isEmpty();
        SubmitJob kOfN = withStrategy("k-of-n", null, null);
        assertThat(JobRequestRules.withPoolFaults(kOfN, 2)).isSameAs(kOfN);

        assertThat(JobRequestRules.problems(withStrategy("bft", 4, 2), pool -> false, rules::bftFaults))
                .extracting(Problem::field, Problem::message).containsExactly(
                        org.assertj.core.groups.Tuple.tuple("quorum", "must be 2f + 1 = 3 for bft with redundancy 4"),
                        org.assertj.core.groups.Tuple.tuple("redundancy", "must be at least 3f + 1 = 7 for bft in pool"
                                + " 'public', which tolerates f = 2 faulty workers (was 4, f = 1)"));
        assertThat(JobRequestRules.problems(atLevel("full", null, null), pool -> false, rules::bftFaults))
                .as("verification full is f = 1").extracting(Problem::field).containsExactly("redundancy");
        assertThat(JobRequestRules.problems(atLevel("full", null, null), pool -> false, MarketRules.defaults()::bftFaults))
                .isEmpty();
    }

    @Test
    void stakeWeightedAndBftAreTheirOwnStrategiesAndBftNeedsThreeFPlusOneReplicas() {
        assertThat(JobRequestRules.strategy("stake-weighted")).isEqualTo(io.agora.events.Strategy.STAKE_WEIGHTED);
        assertThat(JobRequestRules.strategy("bft")).isEqualTo(io.agora.events.Strategy.BFT);
        assertThat(JobRequestRules.problems(withStrategy("stake-weighted", 3, null))).isEmpty();
        assertThat(JobRequestRules.problems(withStrategy("bft", 4, null))).isEmpty();
        assertThat(JobRequestRules.quorum(withStrategy("bft", 7, null))).as("2f + 1 with f = 2").isEqualTo(5);
        assertThat(JobRequestRules.problems(withStrategy("bft", 3, null)))
                .extracting(Problem::field, Problem::message)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("redundancy", "must be 3f + 1 (4, 7, 10 or 13) for bft, was 3"));
        assertThat(JobRequestRules.problems(withStrategy("bft", 4, 2)))
                .extracting(Problem::message).containsExactly("must be 2f + 1 = 3 for bft with redundancy 4");
        assertThat(JobRequestRules.problems(withStrategy("trust-me", 3, null))).extracting(Problem::field)
                .containsExactly("strategy");
    }

    private static SubmitJob withGpus(Integer gpus) {
        return new SubmitJob("busybox", List.of("x"), null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, 1L, null, gpus, null, null);
    }

    @Test
    void gpusAreBoundedAndReachTheContainerSpec() {
        assertThat(JobRequestRules.problems(withGpus(2))).isEmpty();
        assertThat(JobRequestRules.spec(withGpus(2)).getGpus()).isEqualTo(2);
        assertThat(JobRequestRules.spec(withGpus(null)).getGpus()).isZero();
        assertThat(JobRequestRules.problems(withGpus(17))).extracting(Problem::field).containsExactly("gpus");
        assertThat(JobRequestRules.problems(withGpus(-1))).extracting(Problem::field).containsExactly("gpus");
    }

    @Test
    void onlyATrustedPoolRunsASingleReplica() {
        SubmitJob single = job("busybox", List.of("x"), 1, 1, null, 1L);
        assertThat(JobRequestRules.problems(single, pool -> false)).singleElement()
                .satisfies(p -> assertThat(p.field()).isEqualTo("redundancy"))
                .satisfies(p -> assertThat(p.message()).contains("open pool 'public'"));
        assertThat(JobRequestRules.problems(single, "public"::equals)).isEmpty();
        assertThat(JobRequestRules.problems(job("busybox", List.of("x"), 2, 1, null, 1L), pool -> false)).isEmpty();
        // the default redundancy (3) is fine anywhere
        assertThat(JobRequestRules.problems(job("busybox", List.of("x"), null, null, null, 1L), pool -> false)).isEmpty();
    }

    @Test
    void idempotencyKeyFixesTheJobId() {
        assertThat(JobService.jobId("c", "k")).isEqualTo(JobService.jobId("c", "k"));
        assertThat(JobService.jobId("c", "k")).isNotEqualTo(JobService.jobId("d", "k"));
        assertThat(JobService.jobId("c", null)).isNotEqualTo(JobService.jobId("c", null));
    }

    @Test
    void tokenBucketRefillsAtItsRate() {
        AtomicLong now = new AtomicLong();
        TokenBucket b = new TokenBucket(2, 3, now::get);
        assertThat(b.tryTake()).isZero();
        assertThat(b.tryTake()).isZero();
        assertThat(b.tryTake()).isZero();
        assertThat(b.tryTake()).isEqualTo(500_000_000L);
        now.addAndGet(500_000_000L);
        assertThat(b.tryTake()).isZero();
        assertThat(b.tryTake()).isPositive();
    }

    @Test
    void aBucketGrantsABatchLargerThanItsBurstAndMakesTheNextCallerWaitTheDebtOut() {
        AtomicLong now = new AtomicLong();
        TokenBucket b = new TokenBucket(10, 5, now::get);
        assertThat(b.tryTake(25)).as("more than the burst, granted while a token is there").isZero();
        // 5 - 25 = -20 tokens: one is back after 2.1 s at 10/s
        assertThat(b.tryTake(1)).isCloseTo(2_100_000_000L, org.assertj.core.data.Offset.offset(10L));
        now.addAndGet(2_000_000_000L);
        assertThat(b.tryTake(3)).isCloseTo(100_000_000L, org.assertj.core.data.Offset.offset(10L));
        now.addAndGet(150_000_000L);
        assertThat(b.tryTake(3)).isZero();
        assertThatThrownBy(() -> b.tryTake(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rateLimiterAnswers429WithRetryAfterPerClient() {
        AtomicLong now = new AtomicLong();
        RateLimiter limiter = new RateLimiter(0.5, 1, now::get);
        limiter.admit("a");
        limiter.admit("b");
        assertThatThrownBy(() -> limiter.admit("a")).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status().getCode()).isEqualTo(429);
            assertThat(e.retryAfterSeconds()).isEqualTo(2);
        });
    }

    @Test
    void keysAreSaltedHashesCheckedInConstantTime() {
        KeyHasher.Issued k = new KeyHasher().issue();
        KeyHasher.Parsed parsed = KeyHasher.parse(k.apiKey());
        assertThat(parsed.keyId()).isEqualTo(k.keyId());
        assertThat(k.hash()).doesNotContain(parsed.secret()).hasSize(64);
        assertThat(KeyHasher.matches(k.salt(), k.hash(), parsed.secret())).isTrue();
        assertThat(KeyHasher.matches(k.salt(), k.hash(), parsed.secret() + "x")).isFalse();
        assertThat(KeyHasher.hash("00", "s")).isNotEqualTo(KeyHasher.hash("01", "s"));
        assertThat(KeyHasher.parse("Bearer nope")).isNull();
        assertThat(KeyHasher.parse("agk_only")).isNull();
    }

    private static final long NOW = System.currentTimeMillis();

    /** A registered worker whose last heartbeat was {@code silentMs} ago, owning task partition 0. */
    private static WorkerState worker(String id, int cores, long mem, long price, double load, int rep, long silentMs) {
        WorkerCapabilities c = WorkerCapabilities.newBuilder().setArch("amd64").setCpuCores(cores).setCpuThreads(cores)
                .setMemoryMb(mem).setPricePerCpuSecondMicros(price).setMaxConcurrent(2).build();
        return new WorkerState(id, c, true, "READY", 1, load, price, NOW - silentMs, 0, 0, rep, List.of(0));
    }

    private static MarketView market(WorkerState... workers) {
        return market(MarketRules.defaults(), workers);
    }

    private static MarketView market(MarketRules rules, WorkerState... workers) {
        WorkerRegistry registry = new WorkerRegistry() {
            @Override
            public List<WorkerState> all() {
                return List.of(workers);
            }
        };
        IngestSettings settings = new IngestSettings("t", 1, 1, 1, false, 30_000, 1_000);
        return new MarketView(registry, null, settings, rules);
    }

    private static final JobSpec SPEC = JobSpec.newBuilder().setImage("i").setCommand(List.of("x")).setTimeoutMs(1000).build();
    private static final Requirements REQ = Requirements.newBuilder().setMaxPricePerCpuSecondMicros(10).build();

    @Test
    void matchPreviewScoresWithTheMatchersWeights() {
        // perfect on every term the API knows: exact fit, free, high trust, idle; result latency is
        // unknown to the API, which the matcher scores 0.5 (0.20 * 0.5 = 0.10 short of 1)
        WorkerState w = worker("w", 1, 128, 0, 0, 10_000, 0);
        assertThat(market(w).match(SPEC, REQ, 1).candidates().get(0).score()).isCloseTo(0.90, Offset.offset(1e-3));
        // price at the ceiling removes exactly the 0.20 price weight
        WorkerState dear = worker("w", 1, 128, 10, 0, 10_000, 0);
        assertThat(market(dear).match(SPEC, REQ, 1).candidates().get(0).score()).isCloseTo(0.70, Offset.offset(1e-3));
        // a cheaper, snugger worker ranks first
        WorkerState big = worker("big", 64, 262_144, 5, 0.5, 0, 0);
        WorkerState snug = worker("snug", 1, 256, 2, 0.5, 0, 0);
        MarketView.MatchPreview p = market(big, snug).match(SPEC, REQ, 2);
        assertThat(p.candidates()).extracting(MarketView.Candidate::workerId).containsExactly("snug", "big");
        assertThat(p.candidates().get(0).explain()).contains("cap=");
        assertThat(p.eligible()).isEqualTo(2);
    }

    @Test
    void matchPreviewTrustsOnlyACheckedProofAndPrefersAWorkerHoldingTheImage() {
        byte[] key = "the market's challenge key, 32 b".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        WorkerRegistry registry = new WorkerRegistry() {
            @Override
            protected byte[] challengeKey() {
                return key;
            }
        };
        long issued = NOW - 2_000;
        String digest = "sha256:" + "4d".repeat(32);
        for (String id : List.of("a-local-seed", "b-proven", "c-local-image")) {
            String seed = id.equals("b-proven") ? io.agora.market.PohChallenge.issue(key, List.of(id), issued) : id + ":1";
            io.agora.market.ProofOfHardware.Proof proof = io.agora.market.ProofOfHardware.timed(seed, 5);
            // bandwidth: b's claim is bounded by its market attestation, c's names another worker, a has none
            String attestation = id.equals("a-local-seed") ? null : io.agora.market.BandwidthAttestation.issue(key,
                    List.of(id.equals("b-proven") ? id : "someone-else"), 500, issued);
            WorkerCapabilities c = WorkerCapabilities.newBuilder().setArch("amd64").setCpuCores(1).setCpuThreads(1)
                    .setMemoryMb(128).setPricePerCpuSecondMicros(5).setMaxConcurrent(2)
                    .setNetworkMbps(900).setNetworkAttestation(attestation)
                    .setBenchmarkScore(proof.score()).setBenchmarkProof(proof.toEvent()).build();
            registry.apply(io.agora.events.WorkerRegistration.newBuilder().setEventId("e-" + id).setWorkerId(id)
                    .setType(io.agora.events.RegistrationType.REGISTERED).setCapabilities(c).setSeq(1)
                    .setTimestamp(java.time.Instant.ofEpochMilli(NOW)).setSignature(java.nio.ByteBuffer.allocate(0)).build(), NOW);
            registry.apply(io.agora.events.Heartbeat.newBuilder().setEventId("h-" + id).setWorkerId(id).setSeq(2)
                    .setTimestamp(java.time.Instant.ofEpochMilli(NOW)).setStatus(io.agora.events.WorkerStatus.READY)
                    .setFreeSlots(2).setLoad(0).setPricePerCpuSecondMicros(5).setOwnedPartitions(List.of(0))
                    .setImageDigests(id.equals("c-local-image") ? List.of(digest) : List.of())
                    .setSignature(java.nio.ByteBuffer.allocate(0)).build(), NOW);
        }
        IngestSettings settings = new IngestSettings("t", 1, 1, 1, false, 30_000, 1_000);
        MarketView view = new MarketView(registry, null, settings, MarketRules.defaults());
        java.util.function.Function<String, Double> score = id -> registry.all().stream()
                .filter(w -> w.workerId().equals(id)).findFirst().orElseThrow().capabilities().getBenchmarkScore();
        assertThat(score.apply("a-local-seed")).as("a seed of its own").isZero();
        assertThat(score.apply("b-proven")).isPositive();
        MarketView.MatchPreview byTag = view.match(SPEC, REQ, 3);
        assertThat(byTag.candidates()).extracting(MarketView.Candidate::workerId)
                .containsExactly("b-proven", "a-local-seed", "c-local-image");
        assertThat(byTag.candidates().get(1).explain()).contains("poh=0.00");
        assertThat(byTag.candidates()).as("bandwidth as the market checked it").extracting(MarketView.Candidate::networkMbps)
                .containsExactly(500, 0, 0);
        assertThat(byTag.candidates().get(0).explain()).contains(" net_mbps=500");
        JobSpec pinned = JobSpec.newBuilder(SPEC).setImage("localhost:5000/agora/tool@" + digest).build();
        MarketView.MatchPreview byDigest = view.match(pinned, REQ, 3);
        assertThat(byDigest.candidates().get(0).workerId()).isEqualTo("c-local-image");
        assertThat(byDigest.candidates().get(0).explain()).contains("locality=1 ");
    }

    @Test
    void matchPreviewHoldsEachWorkerToThePriceItsCheckedScoreEarnsWhereThePoolBoundsPricesByIt() {
        java.util.function.BiFunction<String, Double, WorkerState> worker = (id, score) -> new WorkerState(id,
                WorkerCapabilities.newBuilder().setArch("amd64").setCpuCores(1).setCpuThreads(1).setMemoryMb(128)
                        .setPricePerCpuSecondMicros(9).setMaxConcurrent(2).setPool("public").setBenchmarkScore(score).build(),
                true, "READY", 1, 0, 9, NOW, 0, 0, 0, List.of(0));
        WorkerState slow = worker.apply("slow", 0.0);
        WorkerState fast = worker.apply("fast", 2_000.0);
        MarketView bounded = market(MarketRules.defaults().withPohPrice("public", 4), slow, fast);
        List<MarketView.Candidate> c = bounded.match(SPEC, REQ, 2).candidates();
        assertThat(c).extracting(MarketView.Candidate::workerId).containsExactlyInAnyOrder("slow", "fast");
        Map<String, MarketView.Candidate> byId = new java.util.HashMap<>();
        c.forEach(x -> byId.put(x.workerId(), x));
        assertThat(byId.get("slow").pricePerCpuSecondMicros()).as("no checked score: the reference price").isEqualTo(4);
        assertThat(byId.get("slow").cpuPriceBoundMicros()).isEqualTo(4);
        assertThat(byId.get("fast").pricePerCpuSecondMicros()).as("twice the reference speed: twice the price").isEqualTo(8);
        assertThat(byId.get("fast").explain()).endsWith("poh_score=2000 cpu_price_bound=8");
        assertThat(byId.get("fast").replicaCostAtTimeout().cpuMicros()).as("1 s at the bounded price").isEqualTo(8);
        MarketView.Candidate open = market(slow).match(SPEC, REQ, 1).candidates().get(0);
        assertThat(open.pricePerCpuSecondMicros()).as("a pool without the setting").isEqualTo(9);
        assertThat(open.cpuPriceBoundMicros()).isNull();
    }

    @Test
    void matchPreviewShowsEachCandidatesPricesWithinTheCeilingsAndAReplicasCostPerResource() {
        WorkerCapabilities c = WorkerCapabilities.newBuilder().setArch("amd64").setCpuCores(4).setCpuThreads(4)
                .setMemoryMb(8192).setPricePerCpuSecondMicros(5).setPricePerGbSecondMicros(3).setPricePerGpuSecondMicros(70)
                .setGpus(List.of(new io.agora.events.GpuInfo("t4", 1, 16_000L))).setMaxConcurrent(2).build();
        WorkerState w = new WorkerState("g", c, true, "READY", 1, 0, 5, NOW, 0, 0, 0, List.of(0));
        // 3 s, 1 cpu, 1 GPU, 1.5 GiB (2 GiB units); ceilings 10 / 100 / 3
        JobSpec spec = JobSpec.newBuilder(SPEC).setTimeoutMs(3_000).setGpus(1).setMemoryMb(1536).build();
        Requirements req = Requirements.newBuilder(REQ).setMaxPricePerGpuSecondMicros(100).setMaxPricePerGbSecondMicros(3).build();
        MarketView.Candidate only = market(w).match(spec, req, 1).candidates().get(0);
        assertThat(only.pricePerGpuSecondMicros()).isEqualTo(70);
        assertThat(only.pricePerGbSecondMicros()).isEqualTo(3);
        assertThat(only.replicaCostAtTimeout()).isEqualTo(new MarketView.Cost(5 * 3, 70 * 3, 3 * 2 * 3, 15 + 210 + 18));
        // a memory ceiling under the worker's price excludes it, saying why
        Requirements cheap = Requirements.newBuilder(req).setMaxPricePerGbSecondMicros(2).build();
        assertThat(market(w).match(spec, cheap, 1).excluded()).extracting(MarketView.Excluded::reasons)
                .containsExactly("GiB-second price 3 above max 2");
    }

    @Test
    void matchPreviewExplainsExclusionsWithTheMatchersReasons() {
        WorkerState ok = worker("ok", 4, 4096, 5, 0, 0, 0);
        WorkerState dear = worker("dear", 4, 4096, 50, 0, 0, 0);
        WorkerState silent = worker("silent", 4, 4096, 5, 0, 0, 60_000);
        MarketView.MatchPreview p = market(ok, dear, silent).match(SPEC, REQ, 5);
        assertThat(p.candidates()).extracting(MarketView.Candidate::workerId).containsExactly("ok");
        assertThat(p.excluded()).extracting(MarketView.Excluded::workerId, MarketView.Excluded::reasons)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("dear", "price 50 above max 10"),
                        org.assertj.core.groups.Tuple.tuple("silent", "offline"));
        Requirements gpu = Requirements.newBuilder(REQ).setMinGpuCount(1).build();
        assertThat(market(ok).match(SPEC, gpu, 5).excluded()).extracting(MarketView.Excluded::reasons)
                .containsExactly("no matching gpu");
        WorkerState noPartition = new WorkerState("np", ok.capabilities(), true, "READY", 1, 0, 5, NOW, 0, 0, 0, List.of());
        assertThat(market(noPartition).match(SPEC, REQ, 5).excluded()).extracting(MarketView.Excluded::reasons)
                .containsExactly("owns no task partition");
        WorkerState otherImages = new WorkerState("oi", WorkerCapabilities.newBuilder(ok.capabilities())
                .setAllowedImages(List.of("agora/busybox:1")).build(), true, "READY", 1, 0, 5, NOW, 0, 0, 0, List.of(0));
        assertThat(market(otherImages).match(SPEC, REQ, 5).excluded()).extracting(MarketView.Excluded::reasons)
                .containsExactly("allowed images exclude i");
    }

    @Test
    void aPoolIsHealthyFrom80PercentOfItsWorkersUpDegradedFrom50AndCriticalBelowOrEmpty() {
        // the market view's offline limit is 1 s (IngestSettings above): 60 s silent is offline
        WorkerState up = worker("up", 2, 1024, 5, 0, 0, 0);
        WorkerState silent = worker("silent", 2, 1024, 5, 0, 0, 60_000);
        WorkerState degraded = new WorkerState("deg", up.capabilities(), true, "DEGRADED", 1, 0, 5, NOW, 0, 0, 0, List.of(0));
        assertThat(market(up, up, up, up, silent).pool("public").status()).isEqualTo("healthy");      // 4 of 5
        assertThat(market(up, up, up, silent, degraded).pool("public").status()).isEqualTo("degraded"); // 3 of 5
        MarketView.PoolView critical = market(up, silent, degraded).pool("public");                     // 1 of 3
        assertThat(critical.status()).isEqualTo("critical");
        assertThat(critical.activeWorkers()).isEqualTo(1);
        assertThat(critical.failedWorkers()).isEqualTo(2);
        assertThat(critical.capacity()).isEqualTo(1);
        assertThat(market().pool("public").status()).as("no worker at all").isEqualTo("critical");
        // consensus reliability comes from the read model; without one it is unknown, not made up
        assertThat(critical.consensusReliability()).isNull();
    }

    @Test
    void aPoolsConsensusReliabilityIsItsCompletedShareOfTheJobsConsensusDecided() {
        assertThat(MarketView.consensusReliability(Map.of("COMPLETED", 6L, "NO_CONSENSUS", 1L, "FAILED", 1L,
                "EXPIRED", 5L, "CANCELLED", 3L, "REJECTED", 2L, "RUNNING", 9L))).isEqualTo(0.75);
        assertThat(MarketView.consensusReliability(Map.of("COMPLETED", 4L))).isEqualTo(1.0);
        assertThat(MarketView.consensusReliability(Map.of("NO_CONSENSUS", 2L))).isEqualTo(0.0);
        assertThat(MarketView.consensusReliability(Map.of("EXPIRED", 2L, "QUEUED", 1L)))
                .as("nothing decided by consensus: unknown, not 0").isNull();
        assertThat(MarketView.consensusReliability(Map.of())).isNull();
    }
}
