package io.agora.matcher;

import io.agora.market.Eligibility;
import io.agora.market.Scoring;
import io.agora.market.Matching;
import io.agora.market.MatchPreview;
import io.agora.market.MatchRequest;
import io.agora.market.WorkerView;
import io.agora.market.Trust;
import io.agora.events.GpuInfo;
import io.agora.events.JobRequested;
import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.events.WorkerCapabilities;
import io.agora.schemas.AgoraConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RulesTest {
    private final JobSpec spec = Fx.spec(10_000, 1.0, 128);

    // ---- Trust ----

    @Test
    void trustIsBoundedAndMonotonic() {
        assertThat(Trust.of(0)).isEqualTo(0.5);
        assertThat(Trust.of(Long.MAX_VALUE)).isLessThanOrEqualTo(1.0).isGreaterThan(0.99);
        assertThat(Trust.of(Long.MIN_VALUE)).isGreaterThanOrEqualTo(0.0).isLessThan(0.01);
        assertThat(Trust.of(25)).isGreaterThan(Trust.of(0)).isLessThan(Trust.of(100));
        assertThat(Trust.of(-20)).isLessThan(0.5);
    }

    // ---- Scoring ----

    @Test
    void scoreIsTheWeightedSumOfTermsInUnitRange() {
        WorkerCapabilities c = Fx.caps("public", 200).setCpuCores(2).setMemoryMb(256).build();
        WorkerView w = Fx.view("w", c, 1, 0, 0.2, 5_000);
        MatchRequest req = Fx.request(spec, Fx.req(1000).build(), 1);
        Scoring.Terms t = Scoring.terms(req, w);
        assertThat(t.cap()).isCloseTo((0.5 + 0.5) / 2, within(1e-9));
        assertThat(t.price()).isCloseTo(0.8, within(1e-9));
        assertThat(t.latency()).isCloseTo(0.5, within(1e-9));
        assertThat(t.trust()).isCloseTo(0.5, within(1e-9));
        assertThat(t.load()).isCloseTo(0.8, within(1e-9));
        double expected = 0.40 * 0.5 + 0.20 * 0.8 + 0.20 * 0.5 + 0.15 * 0.5 + 0.05 * 0.8;
        assertThat(Scoring.score(req, w, Scoring.Weights.defaults())).isCloseTo(expected, within(1e-9));
        assertThat(t.explain()).isEqualTo("cap=0.50 price=0.80 latency=0.50 trust=0.50 load=0.80 stake=0.00 poh=0.00 locality=0");
    }

    @Test
    void unknownLatencyIsNeutralAndLoadIsClamped() {
        WorkerView w = Fx.view("w", Fx.caps("public", 0).build(), 1, 0, 7.0, -1);
        Scoring.Terms t = Scoring.terms(Fx.request(spec, Fx.req(0).build(), 1), w);
        assertThat(t.latency()).isEqualTo(Scoring.UNKNOWN_LATENCY);
        assertThat(t.load()).isEqualTo(0.0);
        assertThat(t.price()).isEqualTo(1.0);
    }

    @Test
    void weightsChangeTheWinner() {
        WorkerView cheap = Fx.view("cheap", Fx.caps("public", 100).setCpuCores(64).setMemoryMb(1 << 20).build(), 1, 0, 0, -1);
        WorkerView snug = Fx.view("snug", Fx.caps("public", 900).setCpuCores(1).setMemoryMb(128).build(), 1, 0, 0, -1);
        MatchRequest req = Fx.request(spec, Fx.req(1000).build(), 1);
        assertThat(Matching.best(req, List.of(cheap, snug), Scoring.Weights.defaults()).get(0).worker().workerId())
                .isEqualTo("snug");
        Scoring.Weights priceOnly = new Scoring.Weights(0, 1, 0, 0, 0);
        assertThat(Matching.best(req, List.of(cheap, snug), priceOnly).get(0).worker().workerId()).isEqualTo("cheap");
    }

    @Test
    void tiesAreBrokenByWorkerId() {
        WorkerCapabilities c = Fx.caps("public", 500).build();
        List<WorkerView> ws = List.of(Fx.view("c", c, 1, 0, 0, -1), Fx.view("a", c, 1, 0, 0, -1), Fx.view("b", c, 1, 0, 0, -1));
        List<Matching.Choice> best = Matching.best(Fx.request(spec, Fx.req(1000).build(), 2), ws, Scoring.Weights.defaults());
        assertThat(best).extracting(ch -> ch.worker().workerId()).containsExactly("a", "b");
        assertThat(best.get(0).explain()).startsWith("cap=");
    }

    @Test
    void matchingReturnsTopNBestFirstAndFewerWhenFewerEligible() {
        List<WorkerView> ws = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            ws.add(Fx.view("w" + i, Fx.caps("public", 10 * i).build(), 1, 0, 0, -1));
        }
        List<Matching.Choice> best = Matching.best(Fx.request(spec, Fx.req(1000).build(), 3), ws, Scoring.Weights.defaults());
        assertThat(best).extracting(ch -> ch.worker().workerId()).containsExactly("w0", "w1", "w2");
        List<Matching.Choice> few = Matching.best(Fx.request(spec, Fx.req(15).build(), 3), ws, Scoring.Weights.defaults());
        assertThat(few).extracting(ch -> ch.worker().workerId()).containsExactly("w0", "w1");
    }

    @Test
    void partitionIsOneTheWorkerOwns() {
        for (int i = 0; i < 100; i++) {
            assertThat(Matching.partitionFor("job-" + i + "/0/0", List.of(3, 17, 21))).isIn(3, 17, 21);
        }
    }

    // ---- Eligibility ----

    private String why(Requirements r, WorkerCapabilities c) {
        return Eligibility.rejection(Fx.request(spec, r, 1), Fx.view("w", c, 1, 0, 0, -1));
    }

    @Test
    void eligibleWhenEveryRequirementHolds() {
        Requirements r = Fx.req(1000).setMinCpuCores(4).setMinMemoryMb(8192).setGpuModel("a100").setMinGpuCount(2)
                .setMinGpuVramMb(40_000).setAccelerator("tpu").setRegion("eu").setTagsAll(List.of("ssd"))
                .setTagsAny(List.of("nvme", "ssd")).setCapabilitiesAny(List.of("python", "r")).setMinReputation(0).build();
        assertThat(why(r, Fx.caps("public", 1000).build())).isNull();
    }

    @Test
    void eachRequirementCanExclude() {
        WorkerCapabilities c = Fx.caps("public", 500).build();
        assertThat(why(Fx.req(1000).setMinCpuCores(5).build(), c)).contains("cpu");
        assertThat(why(Fx.req(1000).setMinMemoryMb(9000).build(), c)).contains("memory");
        assertThat(why(Fx.req(1000).setGpuModel("H100").build(), c)).contains("gpu");
        assertThat(why(Fx.req(1000).setMinGpuCount(3).build(), c)).contains("gpu");
        assertThat(why(Fx.req(1000).setMinGpuVramMb(80_000).build(), c)).contains("gpu");
        assertThat(why(Fx.req(1000).setAccelerator("fpga").build(), c)).contains("accelerator");
        assertThat(why(Fx.req(1000).setRegion("us").build(), c)).contains("region");
        assertThat(why(Fx.req(1000).setTagsAll(List.of("ssd", "gpu")).build(), c)).contains("tags");
        assertThat(why(Fx.req(1000).setTagsAny(List.of("hdd")).build(), c)).contains("tags");
        assertThat(why(Fx.req(1000).setCapabilitiesAny(List.of("julia")).build(), c)).contains("capabilities");
        assertThat(why(Fx.req(499).build(), c)).contains("price");
        assertThat(why(Fx.req(1000).setMinReputation(1).build(), c)).contains("reputation");
        assertThat(why(Fx.req(1000).setPool("gpu").build(), c)).contains("pool");
        // the container's own gpu request counts like a requirement (Fx.caps: 2 x A100)
        JobSpec twoGpus = JobSpec.newBuilder(spec).setGpus(2).build();
        JobSpec threeGpus = JobSpec.newBuilder(spec).setGpus(3).build();
        assertThat(Eligibility.rejection(Fx.request(twoGpus, Fx.req(1000).build(), 1), Fx.view("w", c, 1, 0, 0, -1))).isNull();
        assertThat(Eligibility.rejection(Fx.request(threeGpus, Fx.req(1000).build(), 1), Fx.view("w", c, 1, 0, 0, -1)))
                .contains("gpu");
        assertThat(Scoring.terms(Fx.request(twoGpus, Fx.req(1000).build(), 1), Fx.view("w", c, 1, 0, 0, -1)).cap())
                .as("cpu 1/4, memory 128/8192, gpus 2/2").isCloseTo((0.25 + 128.0 / 8192 + 1.0) / 3, within(1e-9));
        // the worker's own policy: its per-job minimum must fit one replica's share (1000 µ x 10 s x 1 cpu)
        assertThat(why(Fx.req(1000).build(), Fx.caps("public", 500).setMinPricePerJobMicros(10_000).build())).isNull();
        assertThat(why(Fx.req(1000).build(), Fx.caps("public", 500).setMinPricePerJobMicros(10_001).build()))
                .contains("per-job minimum 10001").contains("10000");
        assertThat(why(Fx.req(1000).build(), Fx.caps("public", 500).setGpus(List.of(
                GpuInfo.newBuilder().setModel("T4").setCount(1).setVramMb(16_000).build())).build())).isNull();
    }

    @Test
    void slotsPartitionsOnlineAllowlistAndExclusionsExclude() {
        WorkerCapabilities c = Fx.caps("public", 500).build();
        Requirements r = Fx.req(1000).build();
        MatchRequest req = Fx.request(spec, r, 1);
        assertThat(Eligibility.rejection(req, Fx.view("w", c, 0, 0, 0, -1))).contains("slot");
        WorkerView noParts = new WorkerView("w", "public", true, c, 500, 1, 0, List.of(), 0, -1);
        assertThat(Eligibility.rejection(req, noParts)).contains("partition");
        WorkerView offline = new WorkerView("w", "public", false, c, 500, 1, 0, List.of(1), 0, -1);
        assertThat(Eligibility.rejection(req, offline)).contains("offline");
        assertThat(Eligibility.rejection(new MatchRequest(spec, r, 1, Set.of("w"), null), Fx.view("w", c, 1, 0, 0, -1)))
                .contains("already");
        assertThat(Eligibility.rejection(new MatchRequest(spec, r, 1, Set.of(), Set.of("other")), Fx.view("w", c, 1, 0, 0, -1)))
                .contains("allowlist");
        JobSpec net = Fx.spec(1000, 1, 128);
        net.setNetwork(true);
        assertThat(Eligibility.rejection(Fx.request(net, r, 1), Fx.view("w", c, 1, 0, 0, -1))).contains("network");
        assertThat(Eligibility.rejection(Fx.request(Fx.spec(1000, 1, 16_384), r, 1), Fx.view("w", c, 1, 0, 0, -1)))
                .contains("memory");
    }

    @Test
    void nobodyMayTakeCountsEachLastingReasonButNotBusySilentOrPartitionlessWorkers() {
        Requirements r = Fx.req(1000).build();
        MatchRequest big = Fx.request(Fx.spec(1000, 1, 16_384), r, 1);
        WorkerCapabilities small = Fx.caps("public", 500).build();
        WorkerCapabilities dear = Fx.caps("public", 5_000).setMemoryMb(32_768).build();
        List<WorkerView> unable = List.of(Fx.view("s1", small, 1, 0, 0, -1), Fx.view("s2", small, 0, 0, 0, -1),
                Fx.view("d", dear, 1, 0, 0, -1));
        assertThat(Eligibility.nobodyMayTake(big, unable, "p")).isEqualTo("no worker in pool p can run it: "
                + "too little memory (2 workers), " + Eligibility.rejection(big, Fx.view("d", dear, 1, 0, 0, -1)) + " (1 worker)");
        assertThat(Eligibility.nobodyMayTake(big, List.of(), "p")).isEqualTo("no worker in pool p can run it: none registered");

        WorkerCapabilities able = Fx.caps("public", 500).setMemoryMb(32_768).build();
        WorkerView busySilentPartitionless = new WorkerView("b", "public", false, able, 500, 0, 0, List.of(), 0, -1);
        assertThat(Eligibility.nobodyMayTake(big, List.of(unable.get(0), busySilentPartitionless), "p")).isNull();

        List<WorkerView> regions = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            regions.add(Fx.view("r" + i, Fx.caps("public", 500).setRegion("region-" + i).build(), 1, 0, 0, -1));
        }
        MatchRequest inEu = Fx.request(spec, Fx.req(1000).setRegion("eu").build(), 1);
        assertThat(Eligibility.nobodyMayTake(inEu, regions, "p")).as("five reasons, then the rest counted")
                .startsWith("no worker in pool p can run it: in region region-0 (1 worker), ")
                .endsWith("in region region-4 (1 worker), other reasons (2 workers)");
    }

    @Test
    void aWorkerIsRefusedAJobWhoseImageItsPullAllowlistExcludesAndNobodyMayTakeSaysSo() {
        String digest = "@sha256:" + "cd".repeat(32);
        JobSpec foreign = JobSpec.newBuilder(spec).setImage("registry.example/foo" + digest).build();
        JobSpec ours = JobSpec.newBuilder(spec).setImage("localhost:5000/agora/busybox" + digest).build();
        Requirements r = Fx.req(1000).build();
        WorkerView local = Fx.view("l", Fx.caps("public", 500).setPullAllowlist(List.of("localhost:5000")).build(), 1, 0, 0, -1);
        WorkerView none = Fx.view("n", Fx.caps("public", 500).setPullAllowlist(List.of()).build(), 1, 0, 0, -1);
        WorkerView untold = Fx.view("u", Fx.caps("public", 500).build(), 1, 0, 0, -1);
        assertThat(Eligibility.rejection(Fx.request(foreign, r, 1), local))
                .isEqualTo(Eligibility.PULL_ALLOWLIST + "registry.example/foo").isEqualTo("pull allowlist excludes registry.example/foo");
        assertThat(Eligibility.rejection(Fx.request(ours, r, 1), local)).isNull();
        assertThat(Eligibility.rejection(Fx.request(ours, r, 1), none)).contains("pull allowlist");
        assertThat(Eligibility.rejection(Fx.request(spec, r, 1), none)).as("a local image is not pulled").isNull();
        assertThat(Eligibility.rejection(Fx.request(foreign, r, 1), untold)).as("a worker that did not say: any").isNull();
        assertThat(Matching.best(Fx.request(foreign, r, 2), List.of(local, none, untold), Scoring.Weights.defaults())).extracting(c -> c.worker().workerId())
                .containsExactly("u");

        WorkerView busy = Fx.view("b", Fx.caps("public", 500).setPullAllowlist(List.of("localhost:5000")).build(), 0, 0, 0, -1);
        assertThat(Eligibility.nobodyMayTake(Fx.request(foreign, r, 1), List.of(local, none, busy), "p"))
                .isEqualTo("no worker in pool p can run it: pull allowlist excludes registry.example/foo (3 workers)");
        assertThat(Eligibility.nobodyMayTake(Fx.request(foreign, r, 1), List.of(local, untold), "p")).isNull();
        MatchPreview.Preview preview = MatchPreview.of(Fx.request(foreign, r, 1), List.of(local, untold), Scoring.Weights.defaults());
        assertThat(preview.excluded()).extracting(MatchPreview.Excluded::reason)
                .containsExactly("pull allowlist excludes registry.example/foo");
    }

    @Test
    void aWorkerIsRefusedAJobWhoseImageItsAllowedImagesExcludeAndNobodyMayTakeSaysSo() {
        String pinned = "localhost:5000/agora/busybox@sha256:" + "cd".repeat(32);
        JobSpec registry = JobSpec.newBuilder(spec).setImage(pinned).build();
        Requirements r = Fx.req(1000).build();
        WorkerView tool = Fx.view("t", Fx.caps("public", 500).setAllowedImages(List.of("agora/tool:1")).build(), 1, 0, 0, -1);
        WorkerView repo = Fx.view("r", Fx.caps("public", 500).setAllowedImages(List.of("localhost:5000/agora/busybox")).build(), 1, 0, 0, -1);
        WorkerView any = Fx.view("a", Fx.caps("public", 500).setAllowedImages(List.of()).build(), 1, 0, 0, -1);
        WorkerView untold = Fx.view("u", Fx.caps("public", 500).build(), 1, 0, 0, -1);
        assertThat(Eligibility.rejection(Fx.request(spec, r, 1), tool))
                .isEqualTo(Eligibility.ALLOWED_IMAGES + spec.getImage()).isEqualTo("allowed images exclude " + spec.getImage());
        assertThat(Eligibility.rejection(Fx.request(registry, r, 1), repo)).as("a repository entry admits the resolved digest").isNull();
        assertThat(Eligibility.rejection(Fx.request(spec, r, 1), repo)).startsWith(Eligibility.ALLOWED_IMAGES);
        assertThat(Eligibility.rejection(Fx.request(spec, r, 1), any)).as("an empty list: any").isNull();
        assertThat(Eligibility.rejection(Fx.request(spec, r, 1), untold)).as("a worker that did not say: any").isNull();
        assertThat(Matching.best(Fx.request(registry, r, 4), List.of(tool, repo, any, untold), Scoring.Weights.defaults()))
                .extracting(c -> c.worker().workerId()).containsExactlyInAnyOrder("r", "a", "u");

        WorkerView busy = Fx.view("b", Fx.caps("public", 500).setAllowedImages(List.of("agora/tool:1")).build(), 0, 0, 0, -1);
        assertThat(Eligibility.nobodyMayTake(Fx.request(registry, r, 1), List.of(tool, busy), "p"))
                .isEqualTo("no worker in pool p can run it: allowed images exclude " + pinned + " (2 workers)");
        assertThat(Eligibility.nobodyMayTake(Fx.request(registry, r, 1), List.of(tool, repo), "p")).isNull();
        MatchPreview.Preview preview = MatchPreview.of(Fx.request(registry, r, 1), List.of(tool, repo), Scoring.Weights.defaults());
        assertThat(preview.chosen()).extracting(c -> c.worker().workerId()).containsExactly("r");
        assertThat(preview.excluded()).containsExactly(new MatchPreview.Excluded("t", "allowed images exclude " + pinned));
    }

    // ---- MatchPreview ----

    @Test
    void previewNamesTheBestBusyWorkersWhenTooFewAreFree() {
        WorkerCapabilities c = Fx.caps("public", 500).build();
        WorkerView free = Fx.view("free", c, 1, 0, 0, -1);
        WorkerView busyGood = Fx.view("busy-good", Fx.caps("public", 100).build(), 0, 50, 0, -1);
        WorkerView busyPoor = Fx.view("busy-poor", Fx.caps("public", 900).build(), 0, 0, 0.9, -1);
        WorkerView busyTooDear = Fx.view("busy-dear", Fx.caps("public", 5_000).build(), 0, 0, 0, -1);
        MatchRequest req = Fx.request(spec, Fx.req(1000).build(), 2);
        MatchPreview.Preview p = MatchPreview.of(req, List.of(free, busyGood, busyPoor, busyTooDear), Scoring.Weights.defaults());
        assertThat(p.chosen()).extracting(ch -> ch.worker().workerId()).containsExactly("free");
        assertThat(p.placeable()).isFalse();
        assertThat(p.eligibleNow()).isEqualTo(1);
        // one more is needed: the better of the busy workers that pass everything else
        assertThat(p.waiting()).extracting(ch -> ch.worker().workerId()).containsExactly("busy-good");
        assertThat(p.excluded()).extracting(MatchPreview.Excluded::workerId).containsExactly("busy-poor", "busy-dear");
        assertThat(p.excluded()).extracting(MatchPreview.Excluded::reason).containsOnly(Eligibility.NO_FREE_SLOT);

        MatchPreview.Preview enough = MatchPreview.of(Fx.request(spec, Fx.req(1000).build(), 1),
                List.of(free, busyGood), Scoring.Weights.defaults());
        assertThat(enough.waiting()).isEmpty();
        assertThat(enough.placeable()).isTrue();
    }

    // ---- Admission ----

    @Test
    void newClientIsGrantedOnceThenHeld() {
        JobRequested job = Fx.job("j1", "c1", 3, 0);
        Admission.Decision d = Admission.decide(null, job, 100_000);
        assertThat(d.grantMicros()).isEqualTo(100_000);
        assertThat(d.admitted()).isTrue();
        assertThat(d.escrowMicros()).isEqualTo(1000L * 10 * 1 * 3);
        assertThat(d.account()).isEqualTo(new Admission.Account(100_000 - 30_000, true));
        Admission.Decision again = Admission.decide(d.account(), Fx.job("j2", "c1", 3, 0), 100_000);
        assertThat(again.grantMicros()).isZero();
        assertThat(again.account().availableMicros()).isEqualTo(40_000);
    }

    @Test
    void tooLittleBalanceIsRejectedAndHoldsNothing() {
        Admission.Account acc = new Admission.Account(29_999, true);
        Admission.Decision d = Admission.decide(acc, Fx.job("j", "c", 3, 0), 100_000);
        assertThat(d.admitted()).isFalse();
        assertThat(d.account()).isEqualTo(acc);
        assertThat(d.reason()).isEqualTo("insufficient credits: available 29999, needs 30000");
        assertThat(Admission.decide(new Admission.Account(30_000, true), Fx.job("j", "c", 3, 0), 0).admitted()).isTrue();
    }

    @Test
    void theEscrowCoversGpuSecondsAndMemoryAtTheCeilings() {
        JobRequested job = Fx.job("j", "c", 2, 0);
        job.getSpec().setGpus(1);
        job.getSpec().setMemoryMb(3000); // 3 GiB units
        job.getRequirements().setMaxPricePerGpuSecondMicros(5_000);
        job.getRequirements().setMaxPricePerGbSecondMicros(100);
        // (1000 x 1 cpu + 5000 x 1 GPU + 100 x 3 GiB) x 10 s x 2 replicas
        assertThat(Admission.decide(new Admission.Account(1_000_000, true), job, 0).escrowMicros())
                .isEqualTo((1000L + 5000 + 300) * 10 * 2);
    }

    @Test
    void overflowingCostIsRejected() {
        JobRequested job = Fx.job("j", "c", 3, 0);
        job.getRequirements().setMaxPricePerCpuSecondMicros(Long.MAX_VALUE / 2);
        assertThat(Admission.decide(new Admission.Account(Long.MAX_VALUE / 2, true), job, 0).reason()).contains("overflow");
    }

    // ---- Leases ----

    @Test
    void leaseArithmetic() {
        assertThat(Leases.initialDeadline(1000, 15_000)).isEqualTo(16_000);
        assertThat(Leases.renewed(16_000, 5_000, 15_000)).isEqualTo(20_000);
        assertThat(Leases.renewed(30_000, 5_000, 15_000)).isEqualTo(30_000);
        assertThat(Leases.latestDeadline(1000, 10_000, 15_000, 10_000)).isEqualTo(36_000);
        assertThat(Leases.renewed(16_000, 30_000, 15_000, 36_000)).as("capped at the latest").isEqualTo(36_000);
        assertThat(Leases.renewed(40_000, 30_000, 15_000, 36_000)).as("never shortened").isEqualTo(40_000);
        assertThat(Leases.expired(16_000, 16_000)).isFalse();
        assertThat(Leases.expired(16_000, 16_001)).isTrue();
        assertThat(Leases.mayRetry(2, 3)).isTrue();
        assertThat(Leases.mayRetry(3, 3)).isFalse();
        assertThat(Leases.retryAt(100, 2, 1000)).isEqualTo(2100);
        assertThat(Leases.taskId("a/b", 1, 2)).isEqualTo("a/b/1/2");
        assertThat(Leases.jobOf("a/b/1/2")).isEqualTo("a/b");
    }

    @Test
    void anExpiredLeaseBenchesOnlyASilentWorkerOrOneThatTookTheTaskUpAndGaveNoResult() {
        // lease granted or last renewed at 1,000 (deadline 16,000)
        assertThat(Leases.countsTowardsCoolDown(16_000, 15_000, 900, false)).as("silent since before the lease").isTrue();
        assertThat(Leases.countsTowardsCoolDown(16_000, 15_000, 1_000, false)).as("heard from: busy, not dead").isFalse();
        assertThat(Leases.countsTowardsCoolDown(16_000, 15_000, 15_000, false)).isFalse();
        assertThat(Leases.countsTowardsCoolDown(16_000, 15_000, 15_000, true)).as("took it up, no result").isTrue();
    }

    // ---- Config ----

    @Test
    void configDefaultsAndOverrides() {
        MatcherConfig d = MatcherConfig.defaults();
        assertThat(d.weights()).isEqualTo(Scoring.Weights.defaults());
        assertThat(d.starterGrantMicros()).isEqualTo(3_600_000L);
        assertThat(d.leaseMs()).isEqualTo(15_000);
        assertThat(d.allowlist("public")).isNull();
        assertThat(d.rules().unmatchedGraceMs("public")).isEqualTo(60_000);
        MatcherConfig c = MatcherConfig.from(AgoraConfig.of(Map.of("agora.matcher.weight.price", "0.5",
                "agora.market.reference.price", "2000", "agora.pool.secure.allowlist", "a, b",
                "agora.market.unmatched.grace.ms", "30000", "agora.pool.gpu.unmatched.grace.ms", "0")));
        assertThat(c.rules().unmatchedGraceMs("public")).isEqualTo(30_000);
        assertThat(c.rules().unmatchedGraceMs("gpu")).isZero();
        assertThat(c.weights().price()).isEqualTo(0.5);
        assertThat(c.starterGrantMicros()).isEqualTo(7_200_000L);
        assertThat(c.allowlist("secure")).containsExactlyInAnyOrder("a", "b");
    }
}
