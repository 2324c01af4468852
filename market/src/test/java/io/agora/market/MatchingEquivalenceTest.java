package io.agora.market;

import io.agora.events.GpuInfo;
import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.events.WorkerCapabilities;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Matching#best} (pruned, allocation-free loop) decides exactly like the definition:
 * every worker {@link Eligibility#eligible}, {@link Scoring#score}, sorted by score then worker id,
 * the first n; same workers, same scores to the bit, same explain strings, in any worker order.
 */
class MatchingEquivalenceTest {
    private static final List<String> TAGS = List.of("ssd", "gpu", "fast", "arm");
    private static final List<String> CAPS = List.of("python", "java", "cuda");
    private static final String DIGEST = "sha256:" + "ab".repeat(32);
    private static final List<String> IMAGES = List.of("alpine@" + DIGEST, "alpine:3", "localhost:5000/agora/alpine@" + DIGEST,
            "registry.example/team/alpine@" + DIGEST);
    /** Null: a worker that did not tell its allowlist. */
    private static final List<List<String>> PULL_ALLOWLISTS = java.util.Arrays.asList(null, List.of(), List.of("localhost:5000"),
            List.of("registry.example/team/", "localhost:5000"));
    /** Null: a worker that did not tell which images it runs; entries naming an image exactly, or a repository. */
    private static final List<List<String>> ALLOWED_IMAGES = java.util.Arrays.asList(null, null, List.of(), List.of("alpine:3"),
            List.of("alpine"), List.of("localhost:5000/agora/alpine@" + DIGEST, "alpine@" + DIGEST),
            List.of("registry.example/team/alpine", "localhost:5000/agora/other"));

    @Test
    void bestIsTheTopNOfEveryEligibleWorkerBySortedScore() {
        Random rnd = new Random(7);
        for (int round = 0; round < 400; round++) {
            List<WorkerView> workers = workers(rnd, 1 + rnd.nextInt(300));
            MatchRequest req = request(rnd, workers);
            Scoring.Weights weights = rnd.nextInt(4) == 0
                    ? randomWeights(rnd, 0)
                    : Scoring.Weights.defaults();
            List<Matching.Choice> expected = reference(req, workers, weights);
            assertSame(Matching.best(req, workers, weights), expected);
            List<WorkerView> shuffled = new ArrayList<>(workers);
            Collections.shuffle(shuffled, rnd);
            assertSame(Matching.best(req, shuffled, weights), expected);
            // the early-exit path: ascending price, as the pool stage holds its free workers
            List<WorkerView> byPrice = new ArrayList<>(shuffled);
            byPrice.sort(Matching.PRICE_ORDER);
            assertSame(Matching.bestPriceOrdered(req, byPrice, weights), expected);
            // the pool stage's path: shape groups, each in price order
            assertSame(Matching.best(req, FreeIndex.of(shuffled), weights), expected);
        }
    }

    @Test
    void requestsOfOneShapeGetOneAnswerAndTheShapeSeesEveryFieldMatchingReads() {
        Random rnd = new Random(11);
        for (int round = 0; round < 200; round++) {
            List<WorkerView> workers = workers(rnd, 1 + rnd.nextInt(100));
            MatchRequest req = request(rnd, workers);
            // what matching never reads: the command, the environment, limits the sandbox alone applies
            JobSpec other = JobSpec.newBuilder(req.spec()).setCommand(List.of("sh", "-c", "echo " + round))
                    .setEnv(java.util.Map.of("ROUND", Integer.toString(round))).setPidsLimit(1 + rnd.nextInt(100))
                    .setOutputFiles(List.of("out-" + round)).build();
            MatchRequest same = new MatchRequest(other, req.requirements(), req.count(), req.excluded(), req.allowlist());
            assertThat(shape(same)).isEqualTo(shape(req)).hasSameHashCodeAs(shape(req));
            assertSame(Matching.best(same, workers, Scoring.Weights.defaults()),
                    Matching.best(req, workers, Scoring.Weights.defaults()));
        }
        JobSpec spec = JobSpec.newBuilder().setImage("alpine:3").setCommand(List.of("true")).setTimeoutMs(10_000)
                .setCpus(1).setMemoryMb(512).build();
        Requirements r = Requirements.newBuilder().setMaxPricePerCpuSecondMicros(1_000).build();
        MatchRequest.Shape base = shape(new MatchRequest(spec, r, 1, Set.of(), null));
        for (JobSpec changed : List.of(JobSpec.newBuilder(spec).setImage("alpine:4").build(),
                JobSpec.newBuilder(spec).setTimeoutMs(20_000).build(), JobSpec.newBuilder(spec).setCpus(2).build(),
                JobSpec.newBuilder(spec).setMemoryMb(1024).build(), JobSpec.newBuilder(spec).setGpus(1).build(),
                JobSpec.newBuilder(spec).setNetwork(true).build())) {
            assertThat(shape(new MatchRequest(changed, r, 1, Set.of(), null))).isNotEqualTo(base);
        }
        assertThat(shape(new MatchRequest(spec, Requirements.newBuilder(r).setMinReputation(5).build(), 1, Set.of(), null)))
                .isNotEqualTo(base);
    }

    private static MatchRequest.Shape shape(MatchRequest req) {
        return MatchRequest.Shape.of(io.agora.events.JobRequested.newBuilder().setEventId("e").setJobId("j")
                .setClientId("c").setSpec(req.spec()).setRequirements(req.requirements()).setRedundancy(1).setQuorum(1)
                .setStrategy(io.agora.events.Strategy.K_OF_N).setMaxTotalResults(1)
                .setSubmittedAt(java.time.Instant.EPOCH).build());
    }

    @Test
    void freeIndexDecidesLikeTheDefinitionOnLargePoolsThatChange() {
        Random rnd = new Random(23);
        for (int round = 0; round < 100; round++) {
            List<WorkerView> workers = workers(rnd, 200 + rnd.nextInt(2_000));
            FreeIndex index = FreeIndex.of(workers);
            assertThat(index.size()).isEqualTo(workers.size());
            for (int step = 0; step < 4; step++) {
                MatchRequest req = request(rnd, workers);
                Scoring.Weights weights = mixedWeights(rnd);
                assertSame(Matching.best(req, index, weights), reference(req, workers, weights));
                // as heartbeats do: some workers leave the index, some come back changed, some new ones join
                for (int i = 0; i < workers.size(); i++) {
                    if (rnd.nextInt(10) == 0) {
                        WorkerView old = workers.get(i);
                        assertThat(index.remove(old)).isTrue();
                        WorkerView changed = new WorkerView(old.workerId(), old.pool(), old.online(),
                                rnd.nextBoolean() ? old.capabilities() : caps(rnd), old.pricePerCpuSecondMicros() + rnd.nextInt(3) * 100 - 100,
                                old.freeSlots(), old.reputation() + rnd.nextInt(3) * 5 - 5, old.ownedPartitions(),
                                rnd.nextInt(3) / 2.0, old.avgLatencyMs(), old.stakeMicros(), old.imageDigests());
                        assertThat(index.add(changed)).isTrue();
                        workers.set(i, changed);
                    }
                }
                for (int i = workers.size() - 1; i >= 0; i--) {
                    if (rnd.nextInt(20) == 0) {
                        assertThat(index.remove(workers.remove(i))).isTrue();
                    }
                }
                assertThat(index.size()).isEqualTo(workers.size());
                assertThat(index.all().stream().map(WorkerView::workerId).sorted().toList())
                        .isEqualTo(workers.stream().map(WorkerView::workerId).sorted().toList());
            }
        }
    }

    @Test
    void theIndexGroupsByShapeAndSkipsWhatCannotCompete() {
        WorkerCapabilities small = WorkerCapabilities.newBuilder().setArch("x86_64").setCpuCores(2).setCpuThreads(2)
                .setMemoryMb(2048).setPricePerCpuSecondMicros(100).setMaxConcurrent(1).setPool("public").setRegion("eu").build();
        WorkerCapabilities big = WorkerCapabilities.newBuilder(small).setCpuCores(32).setMemoryMb(65_536).build();
        WorkerCapabilities us = WorkerCapabilities.newBuilder(small).setRegion("us").build();
        List<WorkerView> workers = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            workers.add(view("small-" + i, small, 100 + i));
            workers.add(view("big-" + i, big, 100 + i));
            workers.add(view("us-" + i, us, 100 + i));
        }
        FreeIndex index = FreeIndex.of(workers);
        assertThat(index.groupCount()).isEqualTo(3);
        JobSpec spec = JobSpec.newBuilder().setImage("alpine:3").setCommand(List.of("true")).setTimeoutMs(10_000)
                .setCpus(2).setMemoryMb(2048).build();
        MatchRequest req = new MatchRequest(spec, Requirements.newBuilder().setMaxPricePerCpuSecondMicros(1_000)
                .setRegion("eu").build(), 3, Set.of(), null);
        List<Matching.Choice> best = Matching.best(req, index, Scoring.Weights.defaults());
        assertThat(best).extracting(c -> c.worker().workerId()).containsExactly("small-0", "small-1", "small-2");
        assertSame(best, reference(req, workers, Scoring.Weights.defaults()));
        // removing every small eu worker leaves the big ones, and the group goes away
        for (int i = 0; i < 30; i++) {
            assertThat(index.remove(view("small-" + i, small, 100 + i))).isTrue();
        }
        assertThat(index.groupCount()).isEqualTo(2);
        assertThat(Matching.best(req, index, Scoring.Weights.defaults())).extracting(c -> c.worker().workerId())
                .containsExactly("big-0", "big-1", "big-2");
        assertThat(index.remove(view("small-0", small, 100))).isFalse();
    }

    @Test
    void gpuAndMemoryPricesAreHeldToTheirCeilingsOnlyForWhatTheJobUses() {
        WorkerCapabilities base = WorkerCapabilities.newBuilder().setArch("x86_64").setCpuCores(4).setCpuThreads(4)
                .setMemoryMb(8192).setPricePerCpuSecondMicros(100).setMaxConcurrent(1).setPool("public")
                .setGpus(List.of(new GpuInfo("t4", 1, 16_000L))).build();
        WorkerView cheapMemory = view("mem-40", WorkerCapabilities.newBuilder(base).setPricePerGbSecondMicros(40)
                .setPricePerGpuSecondMicros(9_000).build(), 100);
        WorkerView dearMemory = view("mem-60", WorkerCapabilities.newBuilder(base).setPricePerGbSecondMicros(60).build(), 100);
        JobSpec cpuJob = JobSpec.newBuilder().setImage("alpine:3").setCommand(List.of("true")).setTimeoutMs(10_000)
                .setCpus(1).setMemoryMb(2048).build();
        Requirements r = Requirements.newBuilder().setMaxPricePerCpuSecondMicros(1_000).setMaxPricePerGbSecondMicros(50).build();
        MatchRequest req = new MatchRequest(cpuJob, r, 3, Set.of(), null);
        // no GPU asked: the GPU price does not matter; memory is asked and priced
        assertThat(Eligibility.rejection(req, cheapMemory)).isNull();
        assertThat(Eligibility.rejection(req, dearMemory)).isEqualTo("GiB-second price 60 above max 50");
        assertSame(Matching.best(req, List.of(cheapMemory, dearMemory), Scoring.Weights.defaults()),
                reference(req, List.of(cheapMemory, dearMemory), Scoring.Weights.defaults()));
        // a GPU job: a GPU price above the ceiling (0 when the client sets none) excludes the worker
        MatchRequest gpuJob = new MatchRequest(JobSpec.newBuilder(cpuJob).setGpus(1).build(), r, 3, Set.of(), null);
        assertThat(Eligibility.rejection(gpuJob, cheapMemory)).isEqualTo("GPU-second price 9000 above max 0");
        MatchRequest paid = new MatchRequest(gpuJob.spec(), Requirements.newBuilder(r).setMaxPricePerGpuSecondMicros(9_000).build(),
                3, Set.of(), null);
        assertThat(Eligibility.rejection(paid, cheapMemory)).isNull();
        assertThat(Matching.best(paid, List.of(cheapMemory, dearMemory), Scoring.Weights.defaults()))
                .extracting(c -> c.worker().workerId()).containsExactly("mem-40");
    }

    private static WorkerView view(String id, WorkerCapabilities caps, long price) {
        return new WorkerView(id, "public", true, caps, price, 1, 0, List.of(0), 0.0, -1);
    }

    @Test
    void priceOrderedEarlyExitDecidesLikeAFullScanOnLargePools() {
        Random rnd = new Random(11);
        int exits = 0;
        for (int round = 0; round < 300; round++) {
            List<WorkerView> workers = workers(rnd, 200 + rnd.nextInt(2_000));
            MatchRequest req = request(rnd, workers);
            Scoring.Weights weights = mixedWeights(rnd);
            List<WorkerView> byPrice = new ArrayList<>(workers);
            byPrice.sort(Matching.PRICE_ORDER);
            int[] visited = {0};
            Iterable<WorkerView> counting = () -> byPrice.stream().peek(w -> visited[0]++).iterator();
            assertSame(Matching.bestPriceOrdered(req, counting, weights), Matching.best(req, workers, weights));
            assertSame(Matching.bestPriceOrdered(req, counting, weights), reference(req, workers, weights));
            if (visited[0] < 2 * byPrice.size()) {
                exits++;
            }
        }
        assertThat(exits).as("rounds where the scan stopped early").isGreaterThan(100);
    }

    @Test
    void priceOrderedRejectsWorkersOutOfOrder() {
        Random rnd = new Random(3);
        List<WorkerView> workers = new ArrayList<>();
        for (WorkerView w : workers(rnd, 50)) {
            workers.add(new WorkerView(w.workerId(), w.pool(), w.online(), w.capabilities(), 1_000 - workers.size(),
                    w.freeSlots(), w.reputation(), w.ownedPartitions(), w.load(), w.avgLatencyMs(), w.stakeMicros(),
                    w.imageDigests()));
        }
        Requirements r = Requirements.newBuilder().setMaxPricePerCpuSecondMicros(1_000_000).build();
        MatchRequest req = new MatchRequest(JobSpec.newBuilder().setImage("alpine:3").setCommand(List.of("true")).setTimeoutMs(10_000).build(),
                r, 3, Set.of(), null);
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> Matching.bestPriceOrdered(req, workers, Scoring.Weights.defaults()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** Mostly non-negative weights (the bounds apply), sometimes negative ones, sometimes price alone. */
    private static Scoring.Weights mixedWeights(Random rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> randomWeights(rnd, 0);
            case 1 -> randomWeights(rnd, 0.5);
            case 2 -> new Scoring.Weights(0, 1, 0, 0, 0); // price alone: many exact ties
            default -> Scoring.Weights.defaults();
        };
    }

    private static Scoring.Weights randomWeights(Random rnd, double shift) {
        return new Scoring.Weights(rnd.nextDouble() - shift, rnd.nextDouble() - shift, rnd.nextDouble() - shift,
                rnd.nextDouble() - shift, rnd.nextDouble() - shift, rnd.nextDouble() - shift, rnd.nextDouble() - shift,
                rnd.nextDouble() - shift);
    }

    private static void assertSame(List<Matching.Choice> actual, List<Matching.Choice> expected) {
        assertThat(actual).hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            assertThat(actual.get(i).worker().workerId()).isEqualTo(expected.get(i).worker().workerId());
            assertThat(Double.doubleToLongBits(actual.get(i).score()))
                    .isEqualTo(Double.doubleToLongBits(expected.get(i).score()));
            assertThat(actual.get(i).explain()).isEqualTo(expected.get(i).explain());
        }
    }

    /** The definition, written the plain way. */
    private static List<Matching.Choice> reference(MatchRequest req, List<WorkerView> workers, Scoring.Weights weights) {
        List<Matching.Choice> all = new ArrayList<>();
        for (WorkerView w : workers) {
            if (Eligibility.eligible(req, w)) {
                all.add(new Matching.Choice(w, Scoring.score(req, w, weights), Scoring.terms(req, w).explain()));
            }
        }
        all.sort(Comparator.comparingDouble(Matching.Choice::score).reversed()
                .thenComparing(c -> c.worker().workerId()));
        return all.subList(0, Math.min(Math.max(0, req.count()), all.size()));
    }

    private static List<WorkerView> workers(Random rnd, int count) {
        // few distinct machines and coarse values, so that equal scores (the worker id tie-break) are common
        List<WorkerCapabilities> palette = new ArrayList<>();
        for (int i = 0; i < 1 + rnd.nextInt(12); i++) {
            palette.add(caps(rnd));
        }
        List<WorkerView> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            WorkerCapabilities caps = palette.get(rnd.nextInt(palette.size()));
            out.add(new WorkerView(String.format("w-%04d", rnd.nextInt(100_000)) + "-" + i, caps.getPool(),
                    rnd.nextInt(10) != 0, caps, caps.getPricePerCpuSecondMicros() / 100 * 100, rnd.nextInt(4) - 1,
                    rnd.nextInt(4) * 25 - 25, rnd.nextInt(12) == 0 ? List.of() : List.of(i % 24),
                    rnd.nextInt(3) / 2.0, rnd.nextBoolean() ? -1 : rnd.nextInt(3) * 5_000,
                    rnd.nextInt(3) == 0 ? rnd.nextInt(4) * 100_000L : 0, rnd.nextBoolean() ? Set.of(DIGEST) : Set.of()));
        }
        return out;
    }

    private static WorkerCapabilities caps(Random rnd) {
        List<GpuInfo> gpus = new ArrayList<>();
        for (int g = rnd.nextInt(3); g > 0; g--) {
            gpus.add(GpuInfo.newBuilder().setModel(rnd.nextBoolean() ? "A100" : "T4").setCount(1 + rnd.nextInt(4))
                    .setVramMb(rnd.nextBoolean() ? 16_000 : 40_000).build());
        }
        String pool = rnd.nextInt(10) == 0 ? "other" : "public";
        WorkerCapabilities caps = WorkerCapabilities.newBuilder().setArch("x86_64")
                .setCpuCores(rnd.nextInt(5) == 0 ? 0 : 1 << rnd.nextInt(5)).setCpuThreads(64)
                .setMemoryMb(rnd.nextInt(15) == 0 ? 0 : (512L << rnd.nextInt(6)) + (rnd.nextBoolean() ? 0 : rnd.nextInt(400))).setPricePerCpuSecondMicros(100 + rnd.nextInt(1500))
                .setMaxConcurrent(4).setPool(pool).setRegion(rnd.nextBoolean() ? "eu" : "us")
                .setTags(subset(rnd, TAGS)).setCapabilities(subset(rnd, CAPS)).setGpus(gpus)
                .setAccelerators(rnd.nextInt(4) == 0 ? List.of("tpu") : List.of())
                .setAllowNetwork(rnd.nextBoolean()).setMinPricePerJobMicros(rnd.nextInt(3) == 0 ? rnd.nextInt(100_000) : 0)
                .setBenchmarkScore(rnd.nextInt(3) * 500.0)
                .setPricePerGpuSecondMicros(rnd.nextInt(3) == 0 ? rnd.nextInt(20_000) : 0)
                .setPricePerGbSecondMicros(rnd.nextInt(3) == 0 ? rnd.nextInt(300) : 0)
                .setPullAllowlist(PULL_ALLOWLISTS.get(rnd.nextInt(PULL_ALLOWLISTS.size())))
                .setAllowedImages(ALLOWED_IMAGES.get(rnd.nextInt(ALLOWED_IMAGES.size()))).build();
        return caps;
    }

    private static MatchRequest request(Random rnd, List<WorkerView> workers) {
        JobSpec spec = JobSpec.newBuilder().setImage(IMAGES.get(rnd.nextInt(IMAGES.size()))).setCommand(List.of("true"))
                .setTimeoutMs(10_000 + rnd.nextInt(3) * 10_000).setCpus(rnd.nextInt(4) * 0.75)
                .setMemoryMb(rnd.nextInt(4) * 1024).setNetwork(rnd.nextInt(4) == 0)
                .setGpus(rnd.nextInt(6) == 0 ? 1 + rnd.nextInt(3) : 0).build();
        Requirements.Builder r = Requirements.newBuilder().setPool(rnd.nextInt(8) == 0 ? "other" : "public")
                .setMaxPricePerCpuSecondMicros(400 + rnd.nextInt(1400))
                .setMaxPricePerGpuSecondMicros(rnd.nextInt(20_000)).setMaxPricePerGbSecondMicros(rnd.nextInt(300))
                .setMinReputation(rnd.nextInt(3) == 0 ? 0 : -100)
                .setMinCpuCores(rnd.nextInt(3)).setMinMemoryMb(rnd.nextInt(3) * 512)
                .setRegion(rnd.nextInt(3) == 0 ? (rnd.nextBoolean() ? "eu" : "us") : null)
                .setTagsAll(rnd.nextInt(3) == 0 ? subset(rnd, TAGS.subList(0, 2)) : List.of())
                .setTagsAny(rnd.nextInt(4) == 0 ? subset(rnd, TAGS) : List.of())
                .setCapabilitiesAny(rnd.nextInt(4) == 0 ? subset(rnd, CAPS) : List.of());
        if (rnd.nextInt(5) == 0) {
            r.setMinGpuCount(rnd.nextInt(3)).setGpuModel(rnd.nextBoolean() ? "a100" : null)
                    .setMinGpuVramMb(rnd.nextBoolean() ? 20_000 : 0);
        }
        if (rnd.nextInt(8) == 0) {
            r.setAccelerator("tpu");
        }
        Set<String> excluded = new HashSet<>();
        Set<String> allow = rnd.nextInt(5) == 0 ? new HashSet<>() : null;
        for (WorkerView w : workers) {
            if (rnd.nextInt(10) == 0) {
                excluded.add(w.workerId());
            }
            if (allow != null && rnd.nextBoolean()) {
                allow.add(w.workerId());
            }
        }
        return new MatchRequest(spec, r.build(), rnd.nextInt(6), excluded, allow);
    }

    private static List<String> subset(Random rnd, List<String> from) {
        List<String> out = new ArrayList<>();
        for (String s : from) {
            if (rnd.nextBoolean()) {
                out.add(s);
            }
        }
        return out;
    }
}
