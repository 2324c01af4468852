package io.agora.matcher;

import io.agora.schemas.testing.SignedRecords;
import io.agora.events.CommandType;
import io.agora.events.JobCommand;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobRequested;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.ReputationChanged;
import io.agora.events.TaskAssigned;
import io.agora.events.GpuInfo;
import io.agora.events.WorkerCapabilities;
import io.agora.market.Eligibility;
import io.agora.market.MarketRules;
import io.agora.schemas.AgoraConfig;
import io.agora.market.Matching;
import io.agora.matcher.PoolMarket.Effects;
import io.agora.matcher.PoolState.Status;
import io.agora.schemas.Topics;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenarios of one pool's market, without Kafka: given this pool, this input at time t, these
 * effects. Each record is written as one line, {@code <topic> <key>: <what>}, tasks with their
 * partition ({@code @p3}); workers ask the price of their last heartbeat and own the partitions it lists.
 */
class PoolMarketTest {
    static final long T0 = 1_700_000_000_000L;
    static final String POOL = "public";
    /** Fx.job: 10 s of 1 cpu at most 1000 µ/cpu-s per replica. */
    static final long ESCROW_PER_REPLICA = 10_000;

    final PoolMarket market = new PoolMarket(POOL, MatcherConfig.defaults().withRetryBackoffMs(0));
    long seq = 1;

    // ---- inputs -----------------------------------------------------------------------------

    Effects register(String workerId, long price, long at) {
        return market.on(new Flow.Registered(SignedRecords.registration(workerId, Fx.caps(POOL, price).build(), seq++, at), 0), at);
    }

    Effects register(String workerId, long price, int maxConcurrent, long at) {
        return market.on(new Flow.Registered(SignedRecords.registration(workerId,
                Fx.caps(POOL, price).setMaxConcurrent(maxConcurrent).build(), seq++, at), 0), at);
    }

    Effects beat(String workerId, long price, int freeSlots, List<Integer> partitions, List<String> inFlight, long at) {
        return beat(workerId, price, freeSlots, partitions, inFlight, at, at);
    }

    /** A heartbeat the worker stamped {@code claimedAt}, handled by the matcher at {@code at}. */
    Effects beat(String workerId, long price, int freeSlots, List<Integer> partitions, List<String> inFlight,
                 long claimedAt, long at) {
        return market.on(new Flow.Beat(SignedRecords.heartbeat(workerId, POOL, seq++, claimedAt, freeSlots, partitions, inFlight,
                price)), at);
    }

    Effects result(String taskId, String workerId, long at) {
        String[] p = taskId.split("/");
        return market.on(new Flow.Result(taskId, p[0], workerId, Integer.parseInt(p[1]), Integer.parseInt(p[2]),
                "SUCCEEDED", 10), at);
    }

    List<String> workersOf(Effects fx) {
        return fx.records().stream().map(Effects.Emitted::value).filter(TaskAssigned.class::isInstance)
                .map(t -> ((TaskAssigned) t).getWorkerId()).toList();
    }

    /** Registers the worker and sends its first heartbeat: two free slots, the given partitions. */
    Effects join(String workerId, long price, List<Integer> partitions, long at) {
        register(workerId, price, at);
        return beat(workerId, price, 2, partitions, List.of(), at);
    }

    /** Registers the worker with {@code slots} slots and sends its first heartbeat: all free, one partition. */
    void joinWithSlots(String workerId, long price, int slots, int partition, long at) {
        register(workerId, price, slots, at);
        beat(workerId, price, slots, List.of(partition), List.of(), at);
    }

    /** The verifier's REQUEST_REPLICAS for {@code count} replicas of alice's job from {@code replica} on. */
    Effects requestReplicas(String jobId, int replica, int count, List<String> exclude, long at) {
        return requestReplicas(jobId, replica, count, exclude, null, at);
    }

    /** The same, with the request's {@code reason} ({@link Eligibility#DISPUTE_REPLICAS}: a dispute's re-run). */
    Effects requestReplicas(String jobId, int replica, int count, List<String> exclude, String reason, long at) {
        return market.on(new Flow.Command(JobCommand.newBuilder().setEventId(UUID.randomUUID().toString())
                .setJobId(jobId).setClientId("alice").setPool(POOL).setType(CommandType.REQUEST_REPLICAS)
                .setReplica(replica).setCount(count).setExcludeWorkers(exclude).setReason(reason)
                .setTimestamp(Instant.ofEpochMilli(T0)).build()), at);
    }

    Effects submit(JobRequested job, long at) {
        return market.on(new Flow.Admitted(job, ESCROW_PER_REPLICA * job.getMaxTotalResults()), at);
    }

    Effects command(String jobId, CommandType type, long at) {
        return market.on(new Flow.Command(JobCommand.newBuilder().setEventId(UUID.randomUUID().toString())
                .setJobId(jobId).setClientId("alice").setPool(POOL).setType(type)
                .setTimestamp(Instant.ofEpochMilli(at)).build()), at);
    }

    Effects handBack(String taskId, String jobId, String fromWorker, long at) {
        return market.on(new Flow.Result(taskId, jobId, fromWorker, 0, 0, "HANDED_BACK", 0), at);
    }

    // ---- effects ----------------------------------------------------------------------------

    static final Map<String, String> TOPIC = Map.of(Topics.TASKS.name(), "tasks", Topics.JOB_EVENTS.name(), "events",
            Topics.VERDICTS.name(), "verdicts", Topics.LEDGER.name(), "ledger", Topics.REPUTATION.name(), "reputation",
            Topics.JOB_COMMANDS.name(), "commands");

    static List<String> lines(Effects fx) {
        List<String> out = new ArrayList<>();
        for (Effects.Emitted e : fx.records()) {
            String what;
            if (e.value() instanceof TaskAssigned t) {
                what = t.getTaskId() + " to " + t.getWorkerId();
            } else if (e.value() instanceof JobEvent ev) {
                what = ev.getType() + (ev.getWorkerId() == null ? "" : " " + ev.getWorkerId())
                        + (ev.getType() == JobEventType.ASSIGNED ? "" : " (" + ev.getReason() + ")");
            } else if (e.value() instanceof ReputationChanged r) {
                what = r.getDelta() + " " + r.getReason();
            } else if (e.value() instanceof JobCommand c) {
                what = c.getType() + " replica " + c.getReplica() + " (" + c.getReason() + ")";
            } else if (e.value() instanceof JobVerdict v) {
                what = v.getOutcome() + " refund " + v.getRefundMicros();
            } else if (e.value() instanceof LedgerEntry l) {
                what = l.getKind() + " " + l.getTransactionId();
            } else {
                what = String.valueOf(e.value());
            }
            out.add(TOPIC.getOrDefault(e.topic(), e.topic()) + " " + e.key() + ": " + what
                    + (e.partition() == null ? "" : " @p" + e.partition()));
        }
        return out;
    }

    static <V> V only(Effects fx, Class<V> type) {
        List<V> vs = fx.records().stream().map(Effects.Emitted::value).filter(type::isInstance).map(type::cast).toList();
        assertThat(vs).hasSize(1);
        return vs.get(0);
    }

    static List<String> savedWorkers(Effects fx) {
        return fx.savedWorkers().stream().map(w -> w.workerId).toList();
    }

    static List<String> savedJobs(Effects fx) {
        return fx.savedJobs().stream().map(j -> j.jobId + " " + j.status).toList();
    }

    // ---- scenarios --------------------------------------------------------------------------

    @Test
    void aPoolThatBoundsPricesByProofOfHardwareHoldsEachWorkerToItsCheckedScoreInMatchingAndTheTask() {
        PoolMarket bounded = new PoolMarket(POOL, MatcherConfig.defaults().withRetryBackoffMs(0).withPohPrice(POOL, 1_000));
        record W(String id, long price, double checkedScore, int partition) {
        }
        for (W w : List.of(new W("w-unproven", 3_000, 0, 0), new W("w-fast", 3_000, 2_500, 1),
                new W("w-fast-cheap", 2_000, 2_500, 2))) {
            bounded.on(new Flow.Registered(SignedRecords.registration(w.id(), Fx.caps(POOL, w.price())
                    .setBenchmarkScore(w.checkedScore()).build(), seq++, T0), 0), T0);
            bounded.on(new Flow.Beat(SignedRecords.heartbeat(w.id(), POOL, seq++, T0, 2, List.of(w.partition()), List.of(),
                    w.price())), T0);
        }
        JobRequested job = Fx.job("job-b", "alice", 3, T0);
        job.getRequirements().setMaxPricePerCpuSecondMicros(5_000);
        Map<String, Long> prices = new java.util.TreeMap<>();
        bounded.on(new Flow.Admitted(job, 5_000L * 10 * 3), T0).records().stream().map(Effects.Emitted::value)
                .filter(TaskAssigned.class::isInstance).map(TaskAssigned.class::cast)
                .forEach(t -> prices.put(t.getWorkerId(), t.getPricePerCpuSecondMicros()));
        assertThat(prices).as("the price each task carries, which the verifier pays").isEqualTo(Map.of(
                "w-unproven", 1_000L, // no checked score: the pool's reference price at most
                "w-fast", 2_500L,     // 2.5 times the reference speed: 2.5 times the reference price at most
                "w-fast-cheap", 2_000L)); // under its bound: what it asked

        // a heartbeat does not lift the bound, and a job whose ceiling is the reference price finds the unproven worker
        bounded.on(new Flow.Beat(SignedRecords.heartbeat("w-unproven", POOL, seq++, T0, 2, List.of(0), List.of(), 9_000)), T0);
        JobRequested cheap = Fx.job("job-c", "alice", 1, T0);
        TaskAssigned t = only(bounded.on(new Flow.Admitted(cheap, ESCROW_PER_REPLICA), T0 + 1), TaskAssigned.class);
        assertThat(t.getWorkerId()).isEqualTo("w-unproven");
        assertThat(t.getPricePerCpuSecondMicros()).isEqualTo(1_000);

        PoolMarket open = new PoolMarket(POOL, MatcherConfig.defaults().withRetryBackoffMs(0));
        open.on(new Flow.Registered(SignedRecords.registration("w-any", Fx.caps(POOL, 3_000).build(), seq++, T0), 0), T0);
        open.on(new Flow.Beat(SignedRecords.heartbeat("w-any", POOL, seq++, T0, 2, List.of(0), List.of(), 3_000)), T0);
        JobRequested dear = Fx.job("job-d", "alice", 1, T0);
        dear.getRequirements().setMaxPricePerCpuSecondMicros(5_000);
        assertThat(only(open.on(new Flow.Admitted(dear, 50_000), T0), TaskAssigned.class).getPricePerCpuSecondMicros())
                .as("a pool without the setting bounds nothing").isEqualTo(3_000);
    }

    @Test
    void aRegisteredWorkerIsMatchedAndTheJobGoesToTheBestWorker() {
        Effects reg = register("w-dear", 900, T0);
        assertThat(lines(reg)).isEmpty();
        assertThat(savedWorkers(reg)).containsExactly("w-dear");
        beat("w-dear", 900, 2, List.of(0), List.of(), T0);
        join("w-cheap", 300, List.of(1), T0);

        Effects fx = submit(Fx.job("job-1", "alice", 1, T0), T0 + 10);

        assertThat(lines(fx)).containsExactly(
                "tasks w-cheap: job-1/0/0 to w-cheap @p1",
                "events job-1: ASSIGNED w-cheap");
        TaskAssigned task = only(fx, TaskAssigned.class);
        assertThat(task.getPricePerCpuSecondMicros()).isEqualTo(300);
        assertThat(task.getLeaseDeadline()).isEqualTo(Instant.ofEpochMilli(T0 + 10 + 15_000));
        assertThat(task.getTerms().getEscrowMicros()).isEqualTo(ESCROW_PER_REPLICA);
        assertThat(task.getExplain()).startsWith("cap=");
        assertThat(savedJobs(fx)).containsExactly("job-1 RUNNING");
        assertThat(savedWorkers(fx)).containsExactly("w-cheap");
        assertThat(fx.savedWorkers().iterator().next().pending).containsOnlyKeys("job-1/0/0");
    }

    @Test
    void aResultsLatencyEndsWhenTheFrontHandedItOnNotWhenThePoolStageReadsIt() {
        join("w-a", 300, List.of(0), T0);
        submit(Fx.job("job-1", "alice", 1, T0), T0);
        // handed on 200 ms after the assignment, read 400 ms later (a commit interval and a poll)
        Effects fx = market.on(new Flow.Result("job-1/0/0", "job-1", "w-a", 0, 0, "SUCCEEDED", 10), T0 + 600, T0 + 200);
        assertThat(fx.savedWorkers()).singleElement().satisfies(w -> assertThat(w.avgLatencyMs).isEqualTo(200.0));
    }

    @Test
    void aJobWaitsInTheQueueWhileNoWorkerIsFreeAndIsPlacedOnALaterHeartbeat() {
        register("w-a", 500, T0);
        beat("w-a", 500, 0, List.of(0), List.of(), T0);

        Effects queued = submit(Fx.job("job-2", "alice", 1, T0), T0);
        assertThat(lines(queued)).containsExactly("events job-2: QUEUED (waiting for 1 eligible workers)");
        assertThat(savedJobs(queued)).containsExactly("job-2 QUEUED");
        assertThat(queued.savedJobs().iterator().next().queueKey).isNotNull();
        assertThat(market.tick(T0 + 1_000).isEmpty()).isTrue();

        Effects placed = beat("w-a", 500, 1, List.of(0), List.of(), T0 + 2_000);
        assertThat(lines(placed)).containsExactly(
                "tasks w-a: job-2/0/0 to w-a @p0",
                "events job-2: ASSIGNED w-a");
        assertThat(savedJobs(placed)).containsExactly("job-2 RUNNING");
        assertThat(placed.savedJobs().iterator().next().queueKey).isNull();
    }

    @Test
    void aNewJobIsPlacedOnlyWhenAllItsReplicasFindDistinctWorkers() {
        join("w-a", 500, List.of(0), T0);
        assertThat(lines(submit(Fx.job("job-n", "alice", 2, T0), T0)))
                .containsExactly("events job-n: QUEUED (waiting for 2 eligible workers)");
        assertThat(lines(join("w-b", 500, List.of(1), T0 + 1))).containsExactly(
                "tasks w-a: job-n/0/0 to w-a @p0",
                "events job-n: ASSIGNED w-a",
                "tasks w-b: job-n/1/0 to w-b @p1",
                "events job-n: ASSIGNED w-b");
    }

    @Test
    void anExpiredLeaseCostsTheWorkerReputationAndTheReplicaMovesToAnotherWorker() {
        join("w-a", 300, List.of(0), T0);
        join("w-b", 600, List.of(1), T0);
        assertThat(lines(submit(Fx.job("job-3", "alice", 1, T0), T0))).first().isEqualTo("tasks w-a: job-3/0/0 to w-a @p0");
        beat("w-a", 300, 2, List.of(0), List.of(), T0 + 8_000);
        beat("w-b", 600, 2, List.of(1), List.of(), T0 + 8_000);

        assertThat(market.tick(T0 + 15_000).isEmpty()).as("the lease runs to its deadline inclusive").isTrue();
        Effects fx = market.tick(T0 + 16_000);

        assertThat(lines(fx)).containsExactly(
                "reputation w-a: -20 lease expired",
                "tasks w-b: job-3/0/1 to w-b @p1",
                "events job-3: REASSIGNED w-b (lease expired)");
        assertThat(only(fx, ReputationChanged.class).getJobId()).isEqualTo("job-3");
        assertThat(only(fx, JobEvent.class).getAttempt()).isEqualTo(1);
        assertThat(savedJobs(fx)).containsExactly("job-3 RUNNING");
    }

    @Test
    void aHeartbeatListingTheTaskRenewsItsLease() {
        join("w-a", 300, List.of(0), T0);
        submit(Fx.job("job-r", "alice", 1, T0), T0);
        Effects renewed = beat("w-a", 300, 1, List.of(0), List.of("job-r/0/0"), T0 + 10_000);
        assertThat(lines(renewed)).as("the first heartbeat holding a replica starts the job, once")
                .containsExactly("events job-r: STARTED w-a (replica 0 held by its worker)");
        assertThat(savedJobs(renewed)).containsExactly("job-r RUNNING");
        assertThat(renewed.savedJobs().iterator().next().replicas.get(0).leaseDeadline).isEqualTo(T0 + 25_000);
        assertThat(market.tick(T0 + 16_000).isEmpty()).isTrue();
        assertThat(lines(beat("w-a", 300, 1, List.of(0), List.of("job-r/0/0"), T0 + 17_000))).isEmpty();
    }

    @Test
    void aReplicaOutOfAttemptsIsReportedFailedToTheVerifier() {
        join("w-a", 300, List.of(0), T0);
        join("w-b", 600, List.of(1), T0);
        JobRequested job = Fx.job("job-4", "alice", 1, T0);
        job.setMaxAttempts(2);
        submit(job, T0);
        beat("w-a", 300, 2, List.of(0), List.of(), T0 + 8_000);
        beat("w-b", 600, 2, List.of(1), List.of(), T0 + 8_000);
        assertThat(lines(market.tick(T0 + 16_000))).contains("tasks w-b: job-4/0/1 to w-b @p1");
        beat("w-a", 300, 2, List.of(0), List.of(), T0 + 24_000);
        beat("w-b", 600, 2, List.of(1), List.of(), T0 + 24_000);

        Effects fx = market.tick(T0 + 32_000);

        assertThat(lines(fx)).containsExactly(
                "reputation w-b: -20 lease expired",
                "commands job-4: REPLICA_FAILED replica 0 (lease expired after 2 attempts)");
        JobCommand failed = only(fx, JobCommand.class);
        assertThat(failed.getExcludeWorkers()).containsExactly("w-a", "w-b");
        assertThat(failed.getPool()).isEqualTo(POOL);
        assertThat(failed.getClientId()).isEqualTo("alice");
    }

    @Test
    void cancelWhileQueuedRefundsTheWholeEscrowOnceWithAVerdict() {
        submit(Fx.job("job-5", "alice", 1, T0), T0);

        Effects fx = command("job-5", CommandType.CANCEL, T0 + 100);

        assertThat(lines(fx)).containsExactly(
                "ledger alice: REFUND refund:job-5",
                "verdicts job-5: CANCELLED refund 10000",
                "events job-5: CANCELLED (cancelled by client)");
        assertThat(only(fx, LedgerEntry.class).getPostings()).extracting(p -> p.getAccountId() + "=" + p.getAmountMicros())
                .containsExactly("escrow:job-5=-10000", "client:alice=10000");
        assertThat(savedJobs(fx)).containsExactly("job-5 DONE");
        assertThat(command("job-5", CommandType.CANCEL, T0 + 200).isEmpty()).isTrue();
        assertThat(lines(join("w-a", 300, List.of(0), T0 + 300))).isEmpty();
    }

    @Test
    void cancelBeforeTheJobArrivesEndsItOnArrival() {
        Effects pending = command("job-c", CommandType.CANCEL, T0);
        assertThat(lines(pending)).isEmpty();
        assertThat(savedJobs(pending)).containsExactly("job-c CANCEL_PENDING");
        join("w-a", 300, List.of(0), T0);
        assertThat(lines(submit(Fx.job("job-c", "alice", 1, T0), T0 + 1))).containsExactly(
                "ledger alice: REFUND refund:job-c",
                "verdicts job-c: CANCELLED refund 10000",
                "events job-c: CANCELLED (cancelled before assignment)");
    }

    @Test
    void aQueuedJobExpiresAtItsQueueTimeoutWithItsEscrowRefunded() {
        JobRequested job = Fx.job("job-x", "alice", 2, T0);
        job.setQueueTimeoutMs(5_000);
        submit(job, T0);
        assertThat(market.tick(T0 + 4_999).isEmpty()).isTrue();
        Effects fx = market.tick(T0 + 5_000);
        assertThat(lines(fx)).containsExactly(
                "ledger alice: REFUND refund:job-x",
                "verdicts job-x: EXPIRED refund 20000",
                "events job-x: EXPIRED (queue timeout)");
        Effects forgotten = market.tick(T0 + 5_000 + PoolMarket.FORGET_AFTER_MS);
        assertThat(forgotten.forgottenJobs()).containsExactly("job-x");
        assertThat(forgotten.records()).isEmpty();
    }

    // ---- a job no registered worker could ever run ------------------------------------------

    /** Registers a worker with {@link Fx#caps} (4 cores, 8 GiB, two A100s) but {@code memoryMb}, and its first heartbeat. */
    void joinWithMemory(String workerId, int memoryMb, long at) {
        joinWith(workerId, Fx.caps(POOL, 500).setMemoryMb(memoryMb).build(), at);
    }

    /** Registers a worker with {@code caps} and its first heartbeat at their price: two free slots, partition 0. */
    void joinWith(String workerId, WorkerCapabilities caps, long at) {
        market.on(new Flow.Registered(SignedRecords.registration(workerId, caps, seq++, at), 0), at);
        beat(workerId, caps.getPricePerCpuSecondMicros(), 2, List.of(0), List.of(), at);
    }

    /** A job of alice needing an H100 and 16 GiB: none of {@link Fx#caps}' workers has the gpu. */
    static JobRequested h100Job(String jobId, long at) {
        JobRequested job = Fx.job(jobId, "alice", 1, at);
        job.getRequirements().setGpuModel("H100");
        job.getRequirements().setMinMemoryMb(16_384);
        return job;
    }

    static final String NOBODY_FOR_H100 = "no worker in pool " + POOL
            + " can run it: no matching gpu (2 workers), too little memory (1 worker)";

    @Test
    void aQueuedJobNoRegisteredWorkerCouldEverRunEndsAfterThePoolsGraceSayingWhyWithItsEscrowRefunded() {
        joinWithMemory("w-small", 8_192, T0);
        joinWithMemory("w-big1", 32_768, T0);
        joinWithMemory("w-big2", 32_768, T0);
        assertThat(lines(submit(h100Job("job-u", T0), T0))).containsExactly("events job-u: QUEUED (waiting for 1 eligible "
                + "workers; " + NOBODY_FOR_H100 + " (it ends in 60 s unless one registers))");
        assertThat(market.tick(T0 + 1_000).isEmpty()).isTrue();
        assertThat(lines(market.tick(T0 + MarketRules.UNMATCHED_GRACE_MS - 1))).as("silent workers count as able")
                .containsOnly("reputation w-small: -20 offline", "reputation w-big1: -20 offline", "reputation w-big2: -20 offline");
        Effects fx = market.tick(T0 + MarketRules.UNMATCHED_GRACE_MS);
        assertThat(lines(fx)).containsExactly(
                "ledger alice: REFUND refund:job-u",
                "verdicts job-u: EXPIRED refund 10000",
                "events job-u: EXPIRED (" + NOBODY_FOR_H100 + ")");
        assertThat(only(fx, JobVerdict.class).getReason()).isEqualTo(NOBODY_FOR_H100);
        assertThat(savedJobs(fx)).containsExactly("job-u DONE");
    }

    @Test
    void aJobWhoseImageNoWorkersPullAllowlistAdmitsEndsAfterTheGraceSayingSoWhileOneTheyMayPullRuns() {
        for (String w : List.of("w-1", "w-2")) {
            joinWith(w, Fx.caps(POOL, 500).setPullAllowlist(List.of("localhost:5000")).build(), T0);
        }
        String digest = "@sha256:" + "cd".repeat(32);
        JobRequested foreign = Fx.job("job-f", "alice", 1, T0);
        foreign.getSpec().setImage("registry.example/foo" + digest);
        String nobody = "no worker in pool " + POOL + " can run it: pull allowlist excludes registry.example/foo (2 workers)";
        assertThat(lines(submit(foreign, T0))).containsExactly("events job-f: QUEUED (waiting for 1 eligible workers; "
                + nobody + " (it ends in 60 s unless one registers))");
        JobRequested ours = Fx.job("job-o", "alice", 1, T0);
        ours.getSpec().setImage("localhost:5000/agora/busybox" + digest);
        assertThat(lines(submit(ours, T0))).anyMatch(l -> l.startsWith("tasks w-") && l.contains(": job-o/0/0 to w-"));
        Effects fx = market.tick(T0 + MarketRules.UNMATCHED_GRACE_MS);
        assertThat(lines(fx)).contains("verdicts job-f: EXPIRED refund 10000", "events job-f: EXPIRED (" + nobody + ")");
    }

    @Test
    void aJobWhoseImageNoWorkersAllowedImagesAdmitEndsAfterTheGraceSayingSoWhileAnAllowedOneRuns() {
        for (String w : List.of("w-1", "w-2")) {
            joinWith(w, Fx.caps(POOL, 500).setAllowedImages(List.of("agora/busybox:1")).build(), T0);
        }
        JobRequested other = Fx.job("job-x", "alice", 1, T0);
        String nobody = "no worker in pool " + POOL + " can run it: allowed images exclude alpine:3 (2 workers)";
        assertThat(lines(submit(other, T0))).containsExactly("events job-x: QUEUED (waiting for 1 eligible workers; "
                + nobody + " (it ends in 60 s unless one registers))");
        JobRequested allowed = Fx.job("job-a", "alice", 1, T0);
        allowed.getSpec().setImage("agora/busybox:1");
        assertThat(lines(submit(allowed, T0))).anyMatch(l -> l.startsWith("tasks w-") && l.contains(": job-a/0/0 to w-"));
        Effects fx = market.tick(T0 + MarketRules.UNMATCHED_GRACE_MS);
        assertThat(lines(fx)).contains("verdicts job-x: EXPIRED refund 10000", "events job-x: EXPIRED (" + nobody + ")");
    }

    @Test
    void aWorkerThatRegistersWithinTheGraceAndCanRunTheJobTakesIt() {
        joinWithMemory("w-small", 8_192, T0);
        submit(h100Job("job-u", T0), T0);
        market.tick(T0 + 30_000);
        market.on(new Flow.Registered(SignedRecords.registration("w-h100", Fx.caps(POOL, 500).setMemoryMb(32_768)
                .setGpus(List.of(GpuInfo.newBuilder().setModel("H100").setCount(1).setVramMb(80_000).build())).build(),
                seq++, T0 + 40_000), 0), T0 + 40_000);
        assertThat(lines(beat("w-h100", 500, 2, List.of(3), List.of(), T0 + 40_000)))
                .containsExactly("tasks w-h100: job-u/0/0 to w-h100 @p3", "events job-u: ASSIGNED w-h100");
        assertThat(lines(market.tick(T0 + 2 * MarketRules.UNMATCHED_GRACE_MS))).noneMatch(l -> l.contains("EXPIRED"));
    }

    @Test
    void aBusyWorkerThatCouldRunTheJobKeepsItQueuedAndTheGraceStartsWhenItLeaves() {
        joinWithSlots("w-a", 500, 1, 0, T0);
        beat("w-a", 500, 0, List.of(0), List.of(), T0);
        assertThat(lines(submit(Fx.job("job-b", "alice", 1, T0), T0)))
                .containsExactly("events job-b: QUEUED (waiting for 1 eligible workers)");
        assertThat(lines(market.tick(T0 + 2 * MarketRules.UNMATCHED_GRACE_MS))).as("busy and silent, not unable")
                .containsExactly("reputation w-a: -20 offline");

        long left = T0 + 2 * MarketRules.UNMATCHED_GRACE_MS + 1_000;
        market.on(new Flow.Removed("w-a"), left);
        market.tick(left);
        assertThat(market.tick(left + MarketRules.UNMATCHED_GRACE_MS - 1).records()).isEmpty();
        assertThat(lines(market.tick(left + MarketRules.UNMATCHED_GRACE_MS)))
                .contains("events job-b: EXPIRED (no worker in pool " + POOL + " can run it: none registered)");
    }

    @Test
    void aStageBehindItsInputJudgesTheGraceByWhatItHasRead() {
        joinWithMemory("w-small", 8_192, T0);
        submit(h100Job("job-u", T0), T0);
        long grace = MarketRules.UNMATCHED_GRACE_MS;
        assertThat(lines(market.tick(T0 + grace + 5_000, T0 + grace - 1))).as("a registration may be on its way")
                .containsExactly("reputation w-small: -20 offline");
        assertThat(lines(market.tick(T0 + grace + 6_000, T0 + grace))).contains("verdicts job-u: EXPIRED refund 10000");
    }

    @Test
    void aPoolsOwnGraceAppliesAndZeroLeavesTheJobToItsQueueTimeout() {
        MatcherConfig cfg = MatcherConfig.from(AgoraConfig.of(Map.of("agora.market.unmatched.grace.ms", "0",
                "agora.pool.gpu.unmatched.grace.ms", "5000")));
        PoolMarket off = new PoolMarket(POOL, cfg);
        JobRequested job = h100Job("job-o", T0);
        job.setQueueTimeoutMs(600_000);
        assertThat(lines(off.on(new Flow.Admitted(job, ESCROW_PER_REPLICA), T0))).containsExactly("events job-o: QUEUED "
                + "(waiting for 1 eligible workers; no worker in pool " + POOL + " can run it: none registered)");
        assertThat(off.tick(T0 + 599_999).isEmpty()).isTrue();
        assertThat(lines(off.tick(T0 + 600_000))).contains("events job-o: EXPIRED (queue timeout)");

        PoolMarket gpu = new PoolMarket("gpu", cfg);
        gpu.on(new Flow.Admitted(h100Job("job-g", T0), ESCROW_PER_REPLICA), T0);
        assertThat(gpu.tick(T0 + 4_999).isEmpty()).isTrue();
        assertThat(lines(gpu.tick(T0 + 5_000))).contains("events job-g: EXPIRED (no worker in pool gpu can run it: none registered)");
    }

    @Test
    void aMisroutedHandBackIsSentAgainToTheIntendedWorkersOtherPartition() {
        join("w-a", 300, List.of(0, 1), T0);
        int first = Matching.partitionFor("job-6/0/0", List.of(0, 1));
        assertThat(lines(submit(Fx.job("job-6", "alice", 1, T0), T0))).first()
                .isEqualTo("tasks w-a: job-6/0/0 to w-a @p" + first);

        Effects fx = handBack("job-6/0/0", "job-6", "w-stranger", T0 + 50);

        assertThat(lines(fx)).containsExactly(
                "tasks w-a: job-6/0/0 to w-a @p" + (1 - first),
                "events job-6: REASSIGNED w-a (misrouted)");
        assertThat(only(fx, TaskAssigned.class).getLeaseDeadline()).isEqualTo(Instant.ofEpochMilli(T0 + 50 + 15_000));
        assertThat(savedJobs(fx)).containsExactly("job-6 RUNNING");
    }

    @Test
    void aHandBackForAWorkerThatOwnsNoPartitionMovesTheReplica() {
        join("w-a", 300, List.of(0), T0);
        join("w-b", 600, List.of(1), T0);
        submit(Fx.job("job-7", "alice", 1, T0), T0);
        beat("w-a", 300, 1, List.of(), List.of("job-7/0/0"), T0 + 10);

        Effects fx = handBack("job-7/0/0", "job-7", "w-stranger", T0 + 20);

        assertThat(lines(fx)).containsExactly(
                "tasks w-b: job-7/0/1 to w-b @p1",
                "events job-7: REASSIGNED w-b (misrouted)");
    }

    @Test
    void aMarketTakenOverCountsSilenceFromItsResumeNotFromTheLastHeartbeatItRead() {
        join("w-a", 300, List.of(0), T0);
        submit(Fx.job("job-9", "alice", 1, T0), T0);
        join("w-b", 600, List.of(1), T0);
        // the instance holding the pool dies; another one restores its state 20 s later
        PoolMarket next = new PoolMarket(POOL, MatcherConfig.defaults().withRetryBackoffMs(0));
        Effects stored = market.resume(T0 + 1_000); // what its stores hold: every worker and the running job
        stored.savedWorkers().forEach(next::restore);
        stored.savedJobs().forEach(next::restore);
        long back = T0 + 20_000;

        Effects resumed = next.resume(back);
        assertThat(resumed.records()).isEmpty();
        assertThat(next.tick(back + 1_000).isEmpty()).as("no one judged for the market's own absence").isTrue();
        // w-b's waiting heartbeats arrive; w-a stays silent and is judged a grace after the resume
        next.on(new Flow.Beat(SignedRecords.heartbeat("w-b", POOL, seq++, back + 2_000, 2, List.of(1), List.of(), 600)), back + 2_000);
        assertThat(lines(next.tick(back + 10_000))).isEmpty();
        assertThat(lines(next.tick(back + 11_000))).containsExactly(
                "reputation w-a: -20 offline",
                "tasks w-b: job-9/0/1 to w-b @p1",
                "events job-9: REASSIGNED w-b (worker offline)");
    }

    @Test
    void aSilentWorkerGoesOfflineWithAPenaltyItsLeasesMoveAndItComesBackOnItsNextHeartbeat() {
        join("w-a", 300, List.of(0), T0);
        submit(Fx.job("job-8", "alice", 1, T0), T0);
        join("w-b", 600, List.of(1), T0 + 5_000);

        assertThat(market.tick(T0 + 10_000).isEmpty()).isTrue();
        Effects fx = market.tick(T0 + 11_000);

        assertThat(lines(fx)).containsExactly(
                "reputation w-a: -20 offline",
                "tasks w-b: job-8/0/1 to w-b @p1",
                "events job-8: REASSIGNED w-b (worker offline)");
        assertThat(fx.savedWorkers()).filteredOn(w -> w.workerId.equals("w-a"))
                .extracting(w -> w.status).containsExactly(Status.OFFLINE);
        assertThat(market.tick(T0 + 12_000).isEmpty()).as("one penalty per silence").isTrue();

        Effects back = beat("w-a", 300, 2, List.of(0), List.of(), T0 + 13_000);
        assertThat(back.savedWorkers()).extracting(w -> w.status).containsExactly(Status.ONLINE);
        assertThat(lines(submit(Fx.job("job-8b", "alice", 1, T0 + 13_000), T0 + 13_000)))
                .first().isEqualTo("tasks w-a: job-8b/0/0 to w-a @p0");
    }

    @Test
    void aStageBehindItsInputJudgesSilenceAndLeasesByWhatItHasRead() {
        join("w-a", 300, List.of(0), T0);
        join("w-b", 600, List.of(1), T0);
        String task = only(submit(Fx.job("job-lag", "alice", 1, T0), T0), TaskAssigned.class).getTaskId();

        // 40 s on, the stage has read its input only up to T0 + 9 s (a backlog ahead of the heartbeats):
        // the 10 s grace and the 15 s lease have not passed by what it has read
        assertThat(market.tick(T0 + 40_000, T0 + 9_000).isEmpty()).isTrue();
        // the worker's result, written in time, arrives with the backlog
        assertThat(lines(result(task, "w-a", T0 + 41_000))).doesNotContain("reputation w-a: -20 offline");
        beat("w-b", 600, 2, List.of(1), List.of(), T0 + 41_000);

        // read up to T0 + 12 s and nothing more from w-a: now it was silent past its grace
        assertThat(lines(market.tick(T0 + 42_000, T0 + 12_000))).containsExactly("reputation w-a: -20 offline");
    }

    @Test
    void behindTheGateAWorkerIsAliveUntilTheGateCallsItSilent() {
        PoolMarket gated = PoolMarket.behindGate(POOL, MatcherConfig.defaults().withRetryBackoffMs(0));
        for (String w : List.of("w-a", "w-b")) {
            long price = w.equals("w-a") ? 300 : 600;
            gated.on(new Flow.Registered(SignedRecords.registration(w, Fx.caps(POOL, price).build(), seq++, T0), 0), T0);
            gated.on(new Flow.Beat(SignedRecords.heartbeat(w, POOL, seq++, T0, 2, List.of(w.equals("w-a") ? 0 : 1),
                    List.of(), price)), T0);
        }
        // the gate absorbs heartbeats that report nothing new: a minute without one here is no silence
        assertThat(gated.tick(T0 + 60_000).isEmpty()).isTrue();
        assertThat(gated.busyWithin(T0 + 60_000, 4_000)).as("no grace to watch").isFalse();
        assertThat(workersOf(gated.on(new Flow.Admitted(Fx.job("job-g", "alice", 1, T0 + 60_000), ESCROW_PER_REPLICA),
                T0 + 60_000))).containsExactly("w-a");

        // as a tick of a market judging by its own clock would: a penalty, and its lease moves
        assertThat(lines(gated.on(new Flow.Silent("w-a"), T0 + 61_000))).containsExactly("reputation w-a: -20 offline",
                "tasks w-b: job-g/0/1 to w-b @p1", "events job-g: REASSIGNED w-b (worker offline)");
        assertThat(gated.on(new Flow.Silent("w-a"), T0 + 62_000).isEmpty()).as("one penalty per silence").isTrue();
        assertThat(gated.on(new Flow.Silent("w-stranger"), T0 + 62_000).isEmpty()).isTrue();

        Effects back = gated.on(new Flow.Beat(SignedRecords.heartbeat("w-a", POOL, seq++, T0 + 63_000, 2, List.of(0),
                List.of(), 300)), T0 + 63_000);
        assertThat(back.savedWorkers()).extracting(w -> w.status).containsExactly(Status.ONLINE);
    }

    @Test
    void aPoolWithNoJobIsBusyOnlyWhenAWorkersGraceEndsWithinTheHorizon() {
        join("w-a", 300, List.of(0), T0);
        // the 10 s grace ends at T0 + 10 s: nothing to do within 4 s of T0 + 5 s, something within 4 s of T0 + 6.5 s
        assertThat(market.busyWithin(T0 + 5_000, 4_000)).isFalse();
        assertThat(market.busyWithin(T0 + 6_500, 4_000)).isTrue();
        beat("w-a", 300, 2, List.of(0), List.of(), T0 + 6_000);
        assertThat(market.busyWithin(T0 + 6_500, 4_000)).as("a beat moves the grace on").isFalse();
        assertThat(market.tick(T0 + 17_000).savedWorkers()).extracting(w -> w.status).containsExactly(Status.OFFLINE);
        assertThat(market.busyWithin(T0 + 17_000, 4_000)).as("an offline worker waits for nothing").isFalse();

        submit(Fx.job("job-idle", "alice", 1, T0 + 17_000), T0 + 17_000);
        assertThat(market.busyWithin(T0 + 17_000, 4_000)).as("a job, queued or running, is business").isTrue();
    }

    @Test
    void aDeregisteredWorkerLosesItsLeasesAndIsNoLongerMatched() {
        join("w-a", 300, List.of(0), T0);
        join("w-b", 600, List.of(1), T0);
        assertThat(only(submit(Fx.job("job-9", "alice", 1, T0), T0), TaskAssigned.class).getWorkerId()).isEqualTo("w-a");

        Effects gone = market.on(new Flow.Registered(SignedRecords.deregistration("w-a", seq++, T0 + 100), 0), T0 + 100);

        assertThat(gone.removedWorkers()).containsExactly("w-a");
        assertThat(savedWorkers(gone)).isEmpty();
        // the replica waits for the next placement round (a heartbeat or the tick), as it always has
        assertThat(lines(gone)).isEmpty();
        assertThat(gone.savedJobs()).singleElement().satisfies(j -> assertThat(j.replicas.get(0).state)
                .isEqualTo(PoolState.ReplicaState.WAITING));
        assertThat(lines(market.tick(T0 + 150))).containsExactly(
                "tasks w-b: job-9/0/1 to w-b @p1",
                "events job-9: REASSIGNED w-b (worker deregistered)");
        assertThat(beat("w-a", 300, 2, List.of(0), List.of(), T0 + 200).isEmpty())
                .as("a heartbeat of an unknown worker").isTrue();
        assertThat(only(submit(Fx.job("job-9b", "alice", 1, T0 + 300), T0 + 300), TaskAssigned.class).getWorkerId())
                .isEqualTo("w-b");
    }

    @Test
    void aReputationChangeAltersThePlacement() {
        join("w-a", 500, List.of(0), T0);
        join("w-b", 500, List.of(1), T0);
        // equal in every term: the tie goes to the smaller worker id
        assertThat(only(submit(Fx.job("job-10", "alice", 1, T0), T0), TaskAssigned.class).getWorkerId()).isEqualTo("w-a");

        Effects fx = market.on(new Flow.Reputation("w-a", -200), T0 + 1);
        assertThat(lines(fx)).isEmpty();
        assertThat(savedWorkers(fx)).containsExactly("w-a");
        assertThat(fx.savedWorkers().iterator().next().reputation).isEqualTo(-200);

        assertThat(only(submit(Fx.job("job-11", "alice", 1, T0 + 2), T0 + 2), TaskAssigned.class).getWorkerId())
                .isEqualTo("w-b");
        market.on(new Flow.Reputation("w-a", 200), T0 + 3);
        assertThat(only(submit(Fx.job("job-12", "alice", 1, T0 + 4), T0 + 4), TaskAssigned.class).getWorkerId())
                .isEqualTo("w-a");
    }

    @Test
    void aCheckedProofOfHardwareOrABondedStakeAltersThePlacement() {
        join("w-a", 500, List.of(0), T0);
        join("w-b", 500, List.of(1), T0);
        assertThat(only(submit(Fx.job("job-20", "alice", 1, T0), T0), TaskAssigned.class).getWorkerId()).isEqualTo("w-a");
        // w-b registers again with a proof of hardware the gate checked: the score it forwards
        market.on(new Flow.Registered(SignedRecords.registration("w-b", Fx.caps(POOL, 500).setBenchmarkScore(3_000).build(), seq++,
                T0 + 1), 0), T0 + 1);
        TaskAssigned t = only(submit(Fx.job("job-21", "alice", 1, T0 + 2), T0 + 2), TaskAssigned.class);
        assertThat(t.getWorkerId()).isEqualTo("w-b");
        assertThat(t.getExplain()).contains("stake=0.00 poh=0.75");
        // w-a registers again: the gate forwards the bond it holds for it (stakeMicros), twice the job's budget
        market.on(new Flow.Registered(io.agora.events.WorkerRegistration.newBuilder(
                SignedRecords.registration("w-a", Fx.caps(POOL, 500).build(), seq++, T0 + 3)).setStakeMicros(20_000).build(), 0), T0 + 3);
        TaskAssigned u = only(submit(Fx.job("job-22", "alice", 1, T0 + 4), T0 + 4), TaskAssigned.class);
        assertThat(u.getWorkerId()).isEqualTo("w-a"); // 0.10 x 0.67 for the bond beats 0.05 x 0.75 for the speed
        assertThat(u.getExplain()).contains("stake=0.67 poh=0.00");
    }

    @Test
    void aWorkerHoldingTheJobsImageIsPreferred() {
        String digest = "sha256:" + "5e".repeat(32);
        join("w-a", 500, List.of(0), T0);
        join("w-b", 500, List.of(1), T0);
        // w-b's heartbeat says it holds the image's digest (the worker's pull cache)
        market.on(new Flow.Beat(io.agora.events.Heartbeat.newBuilder(SignedRecords.heartbeat("w-b", POOL, seq++, T0 + 1, 2, List.of(1),
                List.of(), 500)).setImageDigests(List.of("sha256:" + "00".repeat(32), digest)).build()), T0 + 1);
        JobRequested pinned = JobRequested.newBuilder(Fx.job("job-30", "alice", 1, T0 + 2))
                .setSpec(io.agora.events.JobSpec.newBuilder(Fx.spec(10_000, 1.0, 128))
                        .setImage("localhost:5000/agora/tool@" + digest).build()).build();
        TaskAssigned t = only(submit(pinned, T0 + 2), TaskAssigned.class);
        assertThat(t.getWorkerId()).isEqualTo("w-b");
        assertThat(t.getExplain()).endsWith("locality=1");
        // a job by tag names no digest: no worker holds it, the tie goes to w-a again
        assertThat(only(submit(Fx.job("job-31", "alice", 1, T0 + 3), T0 + 3), TaskAssigned.class).getWorkerId())
                .isEqualTo("w-a");
        // the next heartbeat without it: the image left w-b's cache
        beat("w-b", 500, 2, List.of(1), List.of(t.getTaskId()), T0 + 4);
        JobRequested again = JobRequested.newBuilder(pinned).setJobId("job-32").build();
        assertThat(only(submit(again, T0 + 5), TaskAssigned.class).getWorkerId()).isEqualTo("w-a");
    }

    @Test
    void theQueueServesHigherPriorityFirstThenOldestFirst() {
        JobRequested lowOld = Fx.job("low-old", "alice", 1, T0);
        JobRequested high = Fx.job("high", "alice", 1, T0);
        high.setPriority(5);
        JobRequested lowNew = Fx.job("low-new", "alice", 1, T0);
        submit(lowOld, T0);
        submit(high, T0 + 1);
        submit(lowNew, T0 + 2);

        Effects reg = register("w-a", 500, 3, T0 + 10);
        assertThat(lines(reg)).as("no owned partition yet: nothing is eligible").isEmpty();
        assertThat(reg.savedJobs()).as("a drain that places nothing writes no job").isEmpty();

        assertThat(lines(beat("w-a", 500, 1, List.of(0), List.of(), T0 + 20)))
                .containsExactly("tasks w-a: high/0/0 to w-a @p0", "events high: ASSIGNED w-a");
        assertThat(lines(beat("w-a", 500, 1, List.of(0), List.of("high/0/0"), T0 + 30)))
                .containsExactly("events high: STARTED w-a (replica 0 held by its worker)", "tasks w-a: low-old/0/0 to w-a @p0", "events low-old: ASSIGNED w-a");
        assertThat(lines(beat("w-a", 500, 1, List.of(0), List.of("high/0/0", "low-old/0/0"), T0 + 40)))
                .containsExactly("events low-old: STARTED w-a (replica 0 held by its worker)", "tasks w-a: low-new/0/0 to w-a @p0", "events low-new: ASSIGNED w-a");
    }

    @Test
    void onlyEffectsAnotherServiceWaitsOnAreCommittedAtOnce() {
        Effects queued = submit(Fx.job("job-q", "alice", 1, T0), T0);
        assertThat(lines(queued)).hasSize(1).allMatch(l -> l.startsWith("events job-q: QUEUED (waiting for 1 eligible workers"));
        assertThat(queued.awaited()).as("a job event alone").isFalse();
        assertThat(register("w-a", 300, T0 + 1).awaited()).as("no record at all").isFalse();

        Effects placed = beat("w-a", 300, 1, List.of(0), List.of(), T0 + 2);
        assertThat(lines(placed)).first().isEqualTo("tasks w-a: job-q/0/0 to w-a @p0");
        assertThat(placed.awaited()).as("a task").isTrue();
        assertThat(command("job-q", CommandType.CANCEL, T0 + 3).awaited()).as("a running job's cancel moves no money here").isFalse();
        submit(Fx.job("job-c", "alice", 1, T0), T0 + 4);
        assertThat(command("job-c", CommandType.CANCEL, T0 + 5).awaited()).as("a queued job's refund and verdict").isTrue();
    }

    @Test
    void aResultFreesTheSlotTheWorkersLatestHeartbeatCountedBusyButOnlyThatHeartbeatsSlots() {
        register("w-a", 300, 4, T0);
        beat("w-a", 300, 1, List.of(0), List.of(), T0);
        assertThat(lines(submit(Fx.job("job-1", "alice", 1, T0), T0 + 1))).first().isEqualTo("tasks w-a: job-1/0/0 to w-a @p0");
        beat("w-a", 300, 0, List.of(0), List.of("job-1/0/0"), T0 + 10);
        assertThat(lines(submit(Fx.job("job-2", "alice", 1, T0), T0 + 11)))
                .containsExactly("events job-2: QUEUED (waiting for 1 eligible workers)");

        assertThat(lines(result("job-1/0/0", "w-a", T0 + 20))).as("the slot job-1 held is free before the next heartbeat")
                .containsExactly("tasks w-a: job-2/0/0 to w-a @p0", "events job-2: ASSIGNED w-a");

        // job-2 ended and the heartbeat saying so (one slot free) overtook its result: the result frees nothing more
        beat("w-a", 300, 1, List.of(0), List.of(), T0 + 30);
        result("job-2/0/0", "w-a", T0 + 40);
        assertThat(lines(submit(Fx.job("job-3", "alice", 1, T0), T0 + 41))).first().isEqualTo("tasks w-a: job-3/0/0 to w-a @p0");
        assertThat(lines(submit(Fx.job("job-4", "alice", 1, T0), T0 + 42)))
                .containsExactly("events job-4: QUEUED (waiting for 1 eligible workers)");
    }

    @Test
    void aRetryNeedingOneWorkerIsPlacedWhileAnOlderQueuedJobStillNeedsMoreWorkersThanAreFree() {
        joinWithSlots("w-a", 300, 1, 0, T0);
        joinWithSlots("w-b", 600, 1, 1, T0);
        assertThat(lines(submit(Fx.job("job-r", "alice", 1, T0), T0))).first().isEqualTo("tasks w-a: job-r/0/0 to w-a @p0");
        assertThat(lines(submit(Fx.job("big", "alice", 3, T0), T0 + 1)))
                .containsExactly("events big: QUEUED (waiting for 3 eligible workers)");
        assertThat(lines(submit(Fx.job("job-s", "alice", 1, T0), T0 + 2))).first().isEqualTo("tasks w-b: job-s/0/0 to w-b @p1");
        beat("w-a", 300, 1, List.of(0), List.of(), T0 + 8_000);
        beat("w-b", 600, 0, List.of(1), List.of("job-s/0/0"), T0 + 8_000);

        assertThat(lines(market.tick(T0 + 16_000))).as("w-a is free but failed job-r, w-b is busy: job-r waits behind big")
                .containsExactly("reputation w-a: -20 lease expired");

        assertThat(lines(result("job-s/0/0", "w-b", T0 + 17_000))).as("two free workers: too few for big, enough for job-r")
                .containsExactly("tasks w-b: job-r/0/1 to w-b @p1", "events job-r: REASSIGNED w-b (lease expired)");
    }

    @Test
    void aDrainPassesOverJobsOfAShapeThatFoundNoWorkerButPlacesAnotherShapeBehindThem() {
        joinWithSlots("w-a", 300, 4, 0, T0);
        submit(h100Job("gpu-1", T0), T0 + 1);
        submit(h100Job("gpu-2", T0), T0 + 2);
        JobRequested small = Fx.job("small", "alice", 1, T0);
        JobRequested gpu3 = h100Job("gpu-3", T0);
        gpu3.getSpec().setCommand(List.of("echo", "another command, the same shape"));
        beat("w-a", 300, 0, List.of(0), List.of(), T0 + 3);
        submit(small, T0 + 4);
        submit(gpu3, T0 + 5);

        assertThat(lines(beat("w-a", 300, 2, List.of(0), List.of(), T0 + 10)))
                .as("the gpu jobs ahead of it wait, the small one behind them is placed")
                .containsExactly("tasks w-a: small/0/0 to w-a @p0", "events small: ASSIGNED w-a");
        JobRequested small2 = Fx.job("small-2", "alice", 1, T0);
        submit(small2, T0 + 11);
        assertThat(market.queued()).as("small-2 took the second slot; the three gpu jobs wait").isEqualTo(3);
    }

    @Test
    void requestedReplicasBeyondTheEscrowBoundAreReportedFailed() {
        join("w-a", 300, List.of(0), T0);
        join("w-b", 600, List.of(1), T0);
        JobRequested job = Fx.job("job-13", "alice", 1, T0);
        job.setMaxTotalResults(2);
        submit(job, T0);

        Effects fx = requestReplicas("job-13", 1, 2, List.of(), T0 + 1);

        assertThat(lines(fx)).containsExactly(
                "commands job-13: REPLICA_FAILED replica 2 (replica 2 is beyond maxTotalResults 2)",
                "tasks w-b: job-13/1/0 to w-b @p1",
                "events job-13: ASSIGNED w-b");
        assertThat(savedJobs(fx)).containsExactly("job-13 RUNNING");
    }

    @Test
    void requestedReplicasNoWorkerOfThePoolCouldEverTakeFailAtOnceSayingWhy() {
        join("w-a", 300, List.of(0), T0);
        join("w-b", 600, List.of(1), T0);
        JobRequested job = Fx.job("job-h", "alice", 2, T0);
        job.setMaxTotalResults(5);
        submit(job, T0);
        java.util.function.IntFunction<Effects> request = replica -> requestReplicas("job-h", replica, 1, List.of("w-a", "w-b"), T0 + 1);
        // both workers ran a replica and disagree: nobody is left to break the tie, now or later
        assertThat(lines(request.apply(2))).containsExactly("commands job-h: REPLICA_FAILED replica 2 ("
                + Eligibility.NO_ELIGIBLE_WORKER + " in pool " + POOL + " (2 workers, 2 already ran a replica))");
        // a busy worker that could take it once free is worth waiting for
        joinWithSlots("w-c", 600, 1, 2, T0);
        beat("w-c", 600, 0, List.of(2), List.of(), T0 + 2);
        assertThat(lines(request.apply(3))).as("waits for w-c").noneMatch(l -> l.contains("REPLICA_FAILED") || l.startsWith("tasks"));
        assertThat(lines(beat("w-c", 600, 1, List.of(2), List.of(), T0 + 3))).contains("tasks w-c: job-h/3/0 to w-c @p2");
    }

    @Test
    void aDisputesReplicasNoWorkerOfThePoolCanTakeYetWaitForAFreshOne() {
        join("w-a", 300, List.of(0), T0);
        join("w-b", 600, List.of(1), T0);
        JobRequested job = Fx.job("job-d", "alice", 2, T0);
        job.setMaxTotalResults(4);
        submit(job, T0);
        // the pool's only workers formed the disputed quorum: the re-run needs workers that join later
        Effects fx = requestReplicas("job-d", 2, 2, List.of("w-a", "w-b"), Eligibility.DISPUTE_REPLICAS, T0 + 1);
        assertThat(lines(fx)).as("not failed: a fresh worker may join").noneMatch(l -> l.contains("REPLICA_FAILED"));
        assertThat(lines(join("w-c", 600, List.of(2), T0 + 2))).contains("tasks w-c: job-d/2/0 to w-c @p2");
    }

    // ---- integrity: what a worker claims is bounded by what the matcher knows -----------------

    @Test
    void aHeartbeatRenewsALeaseOnTheMatchersClockWhateverTimeTheWorkerClaims() {
        join("w-a", 300, List.of(0), T0);
        submit(Fx.job("job-t", "alice", 1, T0), T0);

        Effects future = beat("w-a", 300, 1, List.of(0), List.of("job-t/0/0"), T0 + 10L * 24 * 3600 * 1000, T0 + 5_000);
        assertThat(future.savedJobs()).singleElement()
                .satisfies(j -> assertThat(j.replicas.get(0).leaseDeadline).isEqualTo(T0 + 5_000 + 15_000));
        Effects past = beat("w-a", 300, 1, List.of(0), List.of("job-t/0/0"), T0 - 24L * 3600 * 1000, T0 + 8_000);
        assertThat(past.savedJobs()).singleElement()
                .satisfies(j -> assertThat(j.replicas.get(0).leaseDeadline).isEqualTo(T0 + 8_000 + 15_000));

        beat("w-a", 300, 1, List.of(0), List.of(), T0 + 15_000);
        assertThat(market.tick(T0 + 23_000).isEmpty()).isTrue();
        assertThat(lines(market.tick(T0 + 23_001))).containsExactly("reputation w-a: -20 lease expired");
    }

    @Test
    void aWorkerClaimingHugeCapacityHoldsNoMoreThanItsCapAndItsHeartbeatCannotRaiseIt() {
        register("w-greedy", 100, 2, T0);
        beat("w-greedy", 100, 1_000_000, List.of(0), List.of(), T0);
        join("w-b", 600, List.of(1), T0);
        List<String> placed = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            placed.addAll(workersOf(submit(Fx.job("job-g" + i, "alice", 1, T0 + i), T0 + i)));
        }
        assertThat(placed).containsExactly("w-greedy", "w-greedy", "w-b", "w-b");

        Effects claimed = beat("w-greedy", 100, 1_000_000, List.of(0), List.of("job-g0/0/0", "job-g1/0/0"), T0 + 100);
        assertThat(lines(claimed)).as("listing its tasks frees no slot the matcher knows it holds: only the jobs start")
                .containsExactly("events job-g0: STARTED w-greedy (replica 0 held by its worker)", "events job-g1: STARTED w-greedy (replica 0 held by its worker)");

        assertThat(lines(result("job-g0/0/0", "w-greedy", T0 + 200)))
                .as("a result ends a task: the queued job takes the slot").containsExactly(
                        "tasks w-greedy: job-g4/0/0 to w-greedy @p0",
                        "events job-g4: ASSIGNED w-greedy");
    }

    @Test
    void thePoolsSlotCapBoundsEvenWhatTheRegistrationClaims() {
        register("w-greedy", 100, 1_000, T0);
        beat("w-greedy", 100, 1_000, List.of(0), List.of(), T0);
        register("w-b", 600, 8, T0);
        beat("w-b", 600, 8, List.of(1), List.of(), T0);
        List<String> placed = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            placed.addAll(workersOf(submit(Fx.job("job-p" + i, "alice", 1, T0 + i), T0 + i)));
        }
        assertThat(placed).containsExactly("w-greedy", "w-greedy", "w-greedy", "w-greedy", "w-b", "w-b");
    }

    @Test
    void aWorkerSittingOnATaskItKeepsListingLosesItAtTheTasksTimeoutWithAPenalty() {
        join("w-a", 300, List.of(0), T0);
        join("w-b", 600, List.of(1), T0);
        submit(Fx.job("job-s", "alice", 1, T0), T0);
        // the job runs at most 10 s: the lease is never renewed past 10 s + one lease + the grace
        for (long t = T0 + 5_000; t <= T0 + 60_000; t += 5_000) {
            beat("w-a", 300, 1, List.of(0), List.of("job-s/0/0"), t);
            beat("w-b", 600, 2, List.of(1), List.of(), t);
            Effects fx = market.tick(t + 1);
            if (t + 1 > T0 + 10_000 + 15_000 + 10_000) {
                assertThat(lines(fx)).containsExactly(
                        "reputation w-a: -20 lease expired",
                        "tasks w-b: job-s/0/1 to w-b @p1",
                        "events job-s: REASSIGNED w-b (lease expired)");
                return;
            }
            assertThat(fx.isEmpty()).as("tick at +%d", t + 1 - T0).isTrue();
        }
        throw new AssertionError("the lease never expired");
    }

    @Test
    void aLiveWorkerWhoseLeasesExpireInItsBacklogLosesThemAndReputationButIsNotBenched() {
        threeTasksOnWa();
        // w-a keeps beating (overloaded: it never gets to the three tasks, they wait in its backlog)
        beat("w-a", 300, 1, List.of(0), List.of(), T0 + 8_000);
        beat("w-b", 600, 4, List.of(1), List.of(), T0 + 8_000);
        assertThat(lines(market.tick(T0 + 16_000))).as("each lease lost, with its penalty").containsExactly(
                "reputation w-a: -20 lease expired", "reputation w-a: -20 lease expired", "reputation w-a: -20 lease expired",
                "tasks w-b: job-d0/0/1 to w-b @p1", "events job-d0: REASSIGNED w-b (lease expired)",
                "tasks w-b: job-d1/0/1 to w-b @p1", "events job-d1: REASSIGNED w-b (lease expired)",
                "tasks w-b: job-d2/0/1 to w-b @p1", "events job-d2: REASSIGNED w-b (lease expired)");

        beat("w-a", 300, 4, List.of(0), List.of(), T0 + 17_000);
        assertThat(workersOf(submit(Fx.job("job-busy", "alice", 1, T0 + 17_000), T0 + 17_000)))
                .as("busy is not dead: the cheaper w-a is matched again").containsExactly("w-a");
    }

    @Test
    void aWorkerThatHoldsTasksWithoutResultsLosesThemAndReputationAndIsNotMatchedForACoolDown() {
        threeTasksOnWa();
        // w-a beats and lists the three tasks in flight, but never sends a result
        List<String> held = List.of("job-d0/0/0", "job-d1/0/0", "job-d2/0/0");
        long t = T0 + 5_000;
        for (; t <= T0 + 35_000; t += 5_000) {
            beat("w-a", 300, 1, List.of(0), held, t);
            beat("w-b", 600, 4, List.of(1), List.of(), t);
            assertThat(market.tick(t).isEmpty()).as("tick at +%d", t - T0).isTrue();
        }
        // the leases run out at the tasks' timeout + one lease + the grace (T0 + 35 s)
        assertThat(lines(market.tick(T0 + 35_001))).filteredOn(l -> l.startsWith("reputation"))
                .containsExactly("reputation w-a: -20 lease expired", "reputation w-a: -20 lease expired",
                        "reputation w-a: -20 lease expired");

        beat("w-a", 300, 4, List.of(0), List.of(), T0 + 36_000);
        assertThat(workersOf(submit(Fx.job("job-cool", "alice", 1, T0 + 36_000), T0 + 36_000)))
                .as("w-a is cheaper but cooling down").containsExactly("w-b");
        for (String task : List.of("job-d0/0/1", "job-d1/0/1", "job-d2/0/1", "job-cool/0/0")) {
            result(task, "w-b", T0 + 36_500);
        }

        long after = T0 + 35_001 + 300_000;
        beat("w-a", 300, 4, List.of(0), List.of(), after);
        beat("w-b", 600, 4, List.of(1), List.of(), after);
        market.tick(after);
        assertThat(workersOf(submit(Fx.job("job-warm", "alice", 2, after), after))).containsExactlyInAnyOrder("w-a", "w-b");
    }

    @Test
    void theTaskCarriesThePriceOfTheRegistryAtAssignmentNeverAboveTheJobsMax() {
        join("w-a", 300, List.of(0, 1), T0);
        TaskAssigned task = only(submit(Fx.job("job-m", "alice", 1, T0), T0), TaskAssigned.class);
        assertThat(task.getPricePerCpuSecondMicros()).isEqualTo(300);

        beat("w-a", 5_000, 1, List.of(0, 1), List.of("job-m/0/0"), T0 + 10);
        TaskAssigned again = only(handBack("job-m/0/0", "job-m", "w-stranger", T0 + 20), TaskAssigned.class);
        assertThat(again.getPricePerCpuSecondMicros()).as("a price raised after assignment is not on the task")
                .isEqualTo(300).isLessThanOrEqualTo(again.getTerms().getMaxPricePerCpuSecondMicros());
    }

    @Test
    void theTaskCarriesTheGpuAndMemoryPricesWithinTheCeilingsAndTheCeilingsThemselves() {
        market.on(new Flow.Registered(SignedRecords.registration("w-g", Fx.caps(POOL, 300).setPricePerGpuSecondMicros(4_000)
                .setPricePerGbSecondMicros(20).build(), seq++, T0), 0), T0);
        beat("w-g", 300, 2, List.of(0, 1), List.of(), T0);
        JobRequested job = Fx.job("job-g", "alice", 1, T0);
        job.getSpec().setGpus(1);
        job.getRequirements().setMaxPricePerGpuSecondMicros(5_000);
        job.getRequirements().setMaxPricePerGbSecondMicros(20);
        TaskAssigned task = only(submit(job, T0), TaskAssigned.class);
        assertThat(task.getPricePerGpuSecondMicros()).isEqualTo(4_000);
        assertThat(task.getPricePerGbSecondMicros()).isEqualTo(20);
        assertThat(task.getTerms().getMaxPricePerGpuSecondMicros()).isEqualTo(5_000);
        assertThat(task.getTerms().getMaxPricePerGbSecondMicros()).isEqualTo(20);
    }

    /** w-a (price 300) and w-b (600) may each hold 4 tasks; three jobs go to the cheaper w-a. */
    void threeTasksOnWa() {
        register("w-a", 300, 4, T0);
        beat("w-a", 300, 4, List.of(0), List.of(), T0);
        register("w-b", 600, 4, T0);
        beat("w-b", 600, 4, List.of(1), List.of(), T0);
        for (int i = 0; i < 3; i++) {
            assertThat(workersOf(submit(Fx.job("job-d" + i, "alice", 1, T0), T0))).containsExactly("w-a");
        }
    }

    @Test
    void aWorkerThatGoesSilentHoldingLeasesPaysOnePenaltyButEachDroppedLeaseCountsTowardsACoolDown() {
        threeTasksOnWa();
        beat("w-b", 600, 4, List.of(1), List.of(), T0 + 5_000);
        Effects off = market.tick(T0 + 11_000);
        assertThat(lines(off)).filteredOn(l -> l.startsWith("reputation")).containsExactly("reputation w-a: -20 offline");

        beat("w-a", 300, 4, List.of(0), List.of(), T0 + 12_000);
        assertThat(workersOf(submit(Fx.job("job-d3", "alice", 1, T0 + 12_000), T0 + 12_000)))
                .as("back online, but cooling down").containsExactly("w-b");
    }

    @Test
    void aWorkerCannotEndItsCoolDownByDeregisteringAndRegisteringAgain() {
        threeTasksOnWa();
        Effects gone = market.on(new Flow.Registered(SignedRecords.deregistration("w-a", seq++, T0 + 100), 0), T0 + 100);
        assertThat(gone.removedWorkers()).as("kept while it cools down").isEmpty();
        assertThat(gone.savedWorkers()).filteredOn(w -> w.workerId.equals("w-a"))
                .singleElement().satisfies(w -> assertThat(w.coolingUntil).isEqualTo(T0 + 100 + 300_000));
        assertThat(beat("w-a", 300, 4, List.of(0), List.of(), T0 + 150).savedWorkers())
                .as("a departed worker's heartbeat is ignored").isEmpty();

        register("w-a", 300, 4, T0 + 200);
        beat("w-a", 300, 4, List.of(0), List.of(), T0 + 200);
        assertThat(workersOf(submit(Fx.job("job-d3", "alice", 1, T0 + 300), T0 + 300))).containsExactly("w-b");

        market.on(new Flow.Registered(SignedRecords.deregistration("w-a", seq++, T0 + 400), 0), T0 + 400);
        assertThat(market.tick(T0 + 100 + 300_000).removedWorkers()).as("forgotten when the cool-down ends")
                .contains("w-a");
    }

    @Test
    void handBacksSignedByAnotherIdentityDoNotKeepALeaseAlivePastTheTasksTimeout() {
        join("w-a", 300, List.of(0, 1), T0);
        join("w-b", 600, List.of(2), T0);
        submit(Fx.job("job-h", "alice", 1, T0), T0);
        for (long t = T0 + 10_000; t <= T0 + 30_000; t += 10_000) {
            assertThat(lines(handBack("job-h/0/0", "job-h", "w-puppet", t))).last()
                    .isEqualTo("events job-h: REASSIGNED w-a (misrouted)");
            beat("w-a", 300, 1, List.of(0, 1), List.of(), t);
            beat("w-b", 600, 2, List.of(2), List.of(), t);
        }
        assertThat(market.tick(T0 + 35_000).isEmpty()).isTrue();
        assertThat(lines(market.tick(T0 + 35_001))).containsExactly(
                "reputation w-a: -20 lease expired",
                "tasks w-b: job-h/0/1 to w-b @p2",
                "events job-h: REASSIGNED w-b (lease expired)");
    }
}
