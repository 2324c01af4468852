package io.agora.matcher;

import io.agora.schemas.testing.SignedRecords;
import io.agora.events.CommandType;
import io.agora.events.EntryKind;
import io.agora.events.Heartbeat;
import io.agora.events.HostHeartbeat;
import io.agora.events.HostedBeat;
import io.agora.events.JobCommand;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobRequested;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.events.ReputationChanged;
import io.agora.events.ResultStatus;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.events.WorkerCapabilities;
import io.agora.events.WorkerRegistration;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.Assignments;
import io.agora.schemas.HostBeats;
import io.agora.schemas.Identity;
import io.agora.schemas.TaskSeal;
import io.agora.schemas.Signatures;
import io.agora.schemas.TopicSpec;
import io.agora.schemas.Topics;
import io.agora.schemas.Traces;
import io.agora.schemas.testing.TopologyHarness;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class MatcherTopologyTest {
    static final long T0 = 1_700_000_000_000L;
    static final AgoraSerdes SERDES = AgoraSerdes.plain();

    @TempDir
    Path stateDir;

    TopologyHarness harness;
    TopologyTestDriver driver;
    final io.micrometer.core.instrument.simple.SimpleMeterRegistry meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    /** The matcher's key: every task read is checked against it ({@link #readTask}). */
    static final Identity MATCHER = Identity.generate();
    /** The market's proof-of-hardware challenge key, as ingest-api would issue challenges with it. */
    static final byte[] CHALLENGE_KEY = "a test challenge key of 32 bytes".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    long clock = T0;
    long seq = 1;
    final Map<String, List<Integer>> owned = new HashMap<>();
    /** What the pool stage tells the job input gate ({@link ResultAsks}). */
    final ResultAsks asks = new ResultAsks();

    TestInputTopic<String, JobRequested> requests;
    TestInputTopic<String, WorkerRegistration> registrations;
    TestInputTopic<String, Heartbeat> heartbeats;
    TestInputTopic<String, HostHeartbeat> hostBeats;
    TestInputTopic<String, TaskResult> results;
    TestInputTopic<String, JobCommand> commandsIn;
    TestOutputTopic<String, LedgerEntry> ledger;
    TestOutputTopic<String, JobEvent> events;
    TestOutputTopic<String, TaskAssigned> tasks;
    TestOutputTopic<String, TaskAssigned> assignments;
    TestOutputTopic<String, JobVerdict> verdicts;
    TestOutputTopic<String, ReputationChanged> reputation;
    TestOutputTopic<String, JobCommand> commandsOut;
    TestOutputTopic<String, io.agora.events.SlashResult> slashes;
    TestOutputTopic<byte[], byte[]> dlq;

    void start(MatcherConfig cfg) {
        harness = new TopologyHarness(MatcherTopology.build(cfg, SERDES, MATCHER, new MatcherMeters(meters), CHALLENGE_KEY, asks),
                MatcherApp.APP_ID,
                stateDir, Instant.ofEpochMilli(T0), SERDES);
        driver = harness.driver();
        requests = in(Topics.JOB_REQUESTS);
        registrations = in(Topics.REGISTRATIONS);
        heartbeats = in(Topics.HEARTBEATS);
        hostBeats = in(Topics.HOST_BEATS);
        results = in(Topics.RESULTS);
        commandsIn = in(Topics.JOB_COMMANDS);
        ledger = out(Topics.LEDGER);
        events = out(Topics.JOB_EVENTS);
        tasks = out(Topics.TASKS);
        assignments = out(Topics.ASSIGNMENTS);
        verdicts = out(Topics.VERDICTS);
        reputation = out(Topics.REPUTATION);
        commandsOut = out(Topics.JOB_COMMANDS);
        slashes = out(Topics.SLASHES);
        dlq = harness.dlq();
    }

    void start() {
        start(MatcherConfig.defaults().withRetryBackoffMs(0));
    }

    @AfterEach
    void close() {
        if (harness != null) {
            harness.close();
        }
    }

    <V extends org.apache.avro.specific.SpecificRecord> TestInputTopic<String, V> in(TopicSpec<String, V> t) {
        return harness.in(t);
    }

    <V extends org.apache.avro.specific.SpecificRecord> TestOutputTopic<String, V> out(TopicSpec<String, V> t) {
        return harness.out(t);
    }

    void advance(long ms) {
        clock += ms;
        driver.advanceWallClockTime(Duration.ofMillis(ms));
    }

    Identity worker(String pool, List<Integer> partitions) {
        return worker(pool, partitions, Fx.caps(pool, 500).build());
    }

    Identity worker(String pool, List<Integer> partitions, WorkerCapabilities caps) {
        Identity id = Identity.generate();
        owned.put(id.workerId(), partitions);
        registrations.pipeInput(id.workerId(), SignedRecords.registration(id, caps, seq++, clock), clock);
        beat(id, pool, List.of());
        return id;
    }

    void beat(Identity id, String pool, List<String> inFlight) {
        heartbeats.pipeInput(id.workerId(), SignedRecords.heartbeat(id, pool, seq++, clock, 2, owned.get(id.workerId()), inFlight), clock);
    }

    void submit(JobRequested job) {
        requests.pipeInput(job.getClientId(), job, clock);
    }

    /** A one-replica job of client kim in {@code pool}, its admission's ledger entries and events read. */
    void submitTo(String pool, String jobId) {
        JobRequested job = Fx.job(jobId, "kim", 1, clock);
        job.getRequirements().setPool(pool);
        submit(job);
        ledger.readRecordsToList();
        events.readRecordsToList();
    }

    void assertNothingElse() {
        assertThat(ledger.readRecordsToList()).isEmpty();
        assertThat(events.readRecordsToList()).isEmpty();
        assertThat(tasks.readRecordsToList()).isEmpty();
        assertThat(assignments.readRecordsToList()).isEmpty();
        assertThat(verdicts.readRecordsToList()).isEmpty();
        assertThat(reputation.readRecordsToList()).isEmpty();
        assertThat(commandsOut.readRecordsToList()).isEmpty();
        assertThat(slashes.readRecordsToList()).isEmpty();
        assertThat(dlq.readRecordsToList()).isEmpty();
    }

    static int partitionOf(TestRecord<String, TaskAssigned> r) {
        return Integer.parseInt(new String(r.headers().lastHeader(PoolMarketProcessor.H_PARTITION).value(), StandardCharsets.UTF_8));
    }

    /**
     * The next task, checked as its worker would: on a partition its worker owns, signed by the
     * matcher, its command and env sealed to the worker's key; returned opened. The verifier's copy
     * is the same signed record, keyed by job.
     */
    TestRecord<String, TaskAssigned> readTask() {
        TestRecord<String, TaskAssigned> r = tasks.readRecord();
        TestRecord<String, TaskAssigned> copy = assignments.readRecord();
        assertThat(copy.key()).isEqualTo(r.value().getJobId());
        assertThat(copy.value()).isEqualTo(r.value());
        assertThat(r.key()).isEqualTo(r.value().getWorkerId());
        assertThat(owned.get(r.key())).contains(partitionOf(r));
        assertThat(Assignments.problem(r.value(), MATCHER.workerId())).as("signed by the matcher").isEmpty();
        assertThat(Assignments.problem(r.value(), Identity.generate().workerId())).isPresent();
        assertThat(r.value().getSpec().getCommand()).as("sealed").isEmpty();
        assertThat(r.value().getSpec().getEnv()).as("sealed").isEmpty();
        TaskAssigned opened = TaskSeal.open(r.value(), Fx.SEAL);
        assertThat(opened.getSpec().getCommand()).isNotEmpty();
        return new TestRecord<>(r.key(), opened, r.headers(), r.timestamp());
    }

    @Test
    void theMatcherCountsPlacementsByPoolAdmissionsAndDecisionsAndGaugesTheQueue() {
        start();
        worker("public", List.of(0, 1));
        worker("public", List.of(2));
        submit(Fx.job("job-1", "alice", 2, clock));
        submit(Fx.job("job-2", "alice", 3, clock));
        assertThat(meters.get("agora.matcher.placements").tag("pool", "public").counter().count()).isEqualTo(2);
        assertThat(meters.get("agora.matcher.admissions").tag("outcome", "accepted").counter().count()).isEqualTo(2);
        assertThat(meters.get("agora.matcher.queue.depth").tag("pool", "public").gauge().value())
                .as("three replicas never fit on two workers").isEqualTo(1);
        assertThat(meters.get("agora.matcher.decision").tag("input", "admitted").timer().count()).isEqualTo(2);
        assertThat(meters.get("agora.matcher.decision").tag("input", "beat").timer().count()).isEqualTo(2);
        assertThat(meters.find("agora.matcher.reassignments").counters()).isEmpty();
    }

    @Test
    void admittedJobIsHeldThenAssignedToDistinctWorkersOnOwnedPartitions() {
        start();
        worker("public", List.of(0, 1));
        worker("public", List.of(2));
        worker("public", List.of(3, 4, 5));
        submit(Fx.job("job-1", "alice", 2, clock));

        LedgerEntry grant = ledger.readValue();
        assertThat(grant.getKind()).isEqualTo(EntryKind.STARTER_GRANT);
        assertThat(grant.getTransactionId()).isEqualTo("grant:alice");
        assertThat(grant.getPostings()).extracting(p -> p.getAmountMicros()).containsExactly(-3_600_000L, 3_600_000L);
        LedgerEntry hold = ledger.readValue();
        assertThat(hold.getKind()).isEqualTo(EntryKind.ESCROW_HOLD);
        assertThat(hold.getTransactionId()).isEqualTo("hold:job-1");
        assertThat(hold.getPostings()).extracting(p -> p.getAccountId() + "=" + p.getAmountMicros())
                .containsExactly("client:alice=-20000", "escrow:job-1=20000");

        JobEvent accepted = events.readValue();
        assertThat(accepted.getType()).isEqualTo(JobEventType.ACCEPTED);
        assertThat(accepted.getEscrowMicros()).isEqualTo(20_000);

        TestRecord<String, TaskAssigned> t0 = readTask();
        TestRecord<String, TaskAssigned> t1 = readTask();
        assertThat(t0.key()).isNotEqualTo(t1.key());
        assertThat(List.of(t0.value().getTaskId(), t1.value().getTaskId())).containsExactly("job-1/0/0", "job-1/1/0");
        TaskAssigned t = t0.value();
        assertThat(t.getTerms().getClientId()).isEqualTo("alice");
        assertThat(t.getTerms().getEscrowMicros()).isEqualTo(20_000);
        assertThat(t.getTerms().getRedundancy()).isEqualTo(2);
        assertThat(t.getTerms().getDeadline()).isEqualTo(Instant.ofEpochMilli(clock + 900_000));
        assertThat(t.getLeaseDeadline()).isEqualTo(Instant.ofEpochMilli(clock + 15_000));
        assertThat(t.getExplain()).startsWith("cap=");
        assertThat(events.readValuesToList()).extracting(JobEvent::getType)
                .containsExactly(JobEventType.ASSIGNED, JobEventType.ASSIGNED);
        assertNothingElse();
    }

    @Test
    void aJobsTraceParentRunsFromTheRequestThroughAdmissionToItsTasks() {
        start();
        worker("public", List.of(0, 1, 2, 3, 4, 5));
        String traceId = "0af7651916cd43dd8448eb211c80319c";
        JobRequested job = Fx.job("job-t", "alice", 1, clock);
        requests.pipeInput(new TestRecord<>(job.getClientId(), job, new RecordHeaders().add(Traces.HEADER,
                ("00-" + traceId + "-b7ad6b7169203331-01").getBytes(StandardCharsets.UTF_8)), clock));

        List<TestRecord<String, LedgerEntry>> money = ledger.readRecordsToList();
        List<TestRecord<String, JobEvent>> jobEvents = events.readRecordsToList();
        TestRecord<String, TaskAssigned> task = readTask();
        assertThat(money).extracting(r -> r.value().getKind()).containsExactly(EntryKind.STARTER_GRANT, EntryKind.ESCROW_HOLD);
        assertThat(jobEvents).extracting(r -> r.value().getType()).containsExactly(JobEventType.ACCEPTED, JobEventType.ASSIGNED);
        for (TestRecord<String, ?> r : List.of(money.get(0), money.get(1), jobEvents.get(0), jobEvents.get(1), task)) {
            assertThat(Traces.traceId(r.headers())).as(r.value().toString()).isEqualTo(traceId);
        }
        // admission and matching each a span of their own: the parents differ from the request's
        assertThat(new String(task.headers().lastHeader(Traces.HEADER).value(), StandardCharsets.UTF_8))
                .doesNotContain("b7ad6b7169203331")
                .isNotEqualTo(new String(money.get(0).headers().lastHeader(Traces.HEADER).value(), StandardCharsets.UTF_8));
        assertNothingElse();
    }

    @Test
    void aQueuedJobKeepsItsTraceUntilAnUntracedInputPlacesIt() {
        start();
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        JobRequested job = Fx.job("job-qt", "carol", 1, clock);
        requests.pipeInput(new TestRecord<>(job.getClientId(), job, new RecordHeaders().add(Traces.HEADER,
                ("00-" + traceId + "-00f067aa0ba902b7-01").getBytes(StandardCharsets.UTF_8)), clock));
        ledger.readRecordsToList();
        List<TestRecord<String, JobEvent>> arrival = events.readRecordsToList();
        assertThat(arrival).extracting(r -> r.value().getType()).containsExactly(JobEventType.ACCEPTED, JobEventType.QUEUED);
        advance(1000);

        worker("public", List.of(7)); // its registration and heartbeat carry no trace
        TestRecord<String, TaskAssigned> task = readTask();
        TestRecord<String, JobEvent> assigned = events.readRecord();
        assertThat(assigned.value().getType()).isEqualTo(JobEventType.ASSIGNED);
        assertThat(Traces.traceId(task.headers())).isEqualTo(traceId);
        assertThat(Traces.traceId(assigned.headers())).isEqualTo(traceId);
        // the placement is a span of its own, shared by what it wrote
        assertThat(task.headers().lastHeader(Traces.HEADER).value()).isEqualTo(assigned.headers().lastHeader(Traces.HEADER).value())
                .isNotEqualTo(arrival.get(1).headers().lastHeader(Traces.HEADER).value());
        assertNothingElse();
    }

    @Test
    void aWorkersPerJobMinimumAboveTheReplicaShareKeepsItOutAndTheTaskCarriesTheMinimum() {
        start();
        // Fx.job: max price 1000 µ/cpu-s, 10 s, 1 cpu: one replica may earn at most 10,000 µ
        Identity greedy = worker("public", List.of(0), Fx.caps("public", 100).setMinPricePerJobMicros(10_001).build());
        Identity fair = worker("public", List.of(1), Fx.caps("public", 500).setMinPricePerJobMicros(2_500).build());
        submit(Fx.job("job-min", "erin", 1, clock));
        ledger.readRecordsToList();
        TaskAssigned t = readTask().value();
        assertThat(t.getWorkerId()).isEqualTo(fair.workerId()).isNotEqualTo(greedy.workerId());
        assertThat(t.getPricePerCpuSecondMicros()).isEqualTo(500);
        assertThat(t.getMinPricePerJobMicros()).isEqualTo(2_500);
        assertThat(events.readValuesToList()).extracting(JobEvent::getType)
                .containsExactly(JobEventType.ACCEPTED, JobEventType.ASSIGNED);
        assertNothingElse();
    }

    @Test
    void aWorkerIsGivenOnlyJobsWhoseImageItsRegisteredPullAllowlistAdmits() {
        start();
        String digest = "@sha256:" + "cd".repeat(32);
        Identity local = worker("public", List.of(0), Fx.caps("public", 500).setPullAllowlist(List.of("localhost:5000")).build());
        Identity untold = worker("public", List.of(1), Fx.caps("public", 500).build());
        for (String jobId : List.of("job-far-1", "job-far-2", "job-far-3")) {
            JobRequested foreign = Fx.job(jobId, "erin", 1, clock);
            foreign.getSpec().setImage("registry.example/foo" + digest);
            submit(foreign);
        }
        // the worker that did not tell its allowlist takes two (its two slots); the third waits though the other is free
        assertThat(readTask().value().getWorkerId()).isEqualTo(untold.workerId());
        assertThat(readTask().value().getWorkerId()).isEqualTo(untold.workerId());
        assertThat(events.readValuesToList()).filteredOn(e -> e.getJobId().equals("job-far-3")).extracting(JobEvent::getType)
                .containsExactly(JobEventType.ACCEPTED, JobEventType.QUEUED);
        JobRequested ours = Fx.job("job-near", "erin", 1, clock);
        ours.getSpec().setImage("localhost:5000/agora/busybox" + digest);
        submit(ours);
        assertThat(readTask().value().getWorkerId()).isEqualTo(local.workerId());
        ledger.readRecordsToList();
        events.readRecordsToList();
        assertNothingElse();
    }

    @Test
    void aWorkerIsGivenOnlyJobsWhoseImageItsRegisteredAllowedImagesAdmit() {
        start();
        Identity tool = worker("public", List.of(0), Fx.caps("public", 500).setAllowedImages(List.of("agora/tool")).build());
        Identity untold = worker("public", List.of(1), Fx.caps("public", 500).build());
        for (String jobId : List.of("job-alpine-1", "job-alpine-2", "job-alpine-3")) {
            submit(Fx.job(jobId, "erin", 1, clock)); // alpine:3
        }
        // the worker that did not tell takes two (its two slots); the third waits though the other is free
        assertThat(readTask().value().getWorkerId()).isEqualTo(untold.workerId());
        assertThat(readTask().value().getWorkerId()).isEqualTo(untold.workerId());
        assertThat(events.readValuesToList()).filteredOn(e -> e.getJobId().equals("job-alpine-3")).extracting(JobEvent::getType)
                .containsExactly(JobEventType.ACCEPTED, JobEventType.QUEUED);
        JobRequested ours = Fx.job("job-tool", "erin", 1, clock);
        ours.getSpec().setImage("agora/tool:2"); // a repository entry admits every tag
        submit(ours);
        assertThat(readTask().value().getWorkerId()).isEqualTo(tool.workerId());
        ledger.readRecordsToList();
        events.readRecordsToList();
        assertNothingElse();
    }

    @Test
    void insufficientCreditsAreRejectedWithoutHold() {
        start();
        worker("public", List.of(0));
        JobRequested job = Fx.job("job-2", "bob", 1, clock);
        job.getRequirements().setMaxPricePerCpuSecondMicros(1_000_000);
        submit(job);
        assertThat(ledger.readValue().getKind()).isEqualTo(EntryKind.STARTER_GRANT);
        JobEvent rejected = events.readValue();
        assertThat(rejected.getType()).isEqualTo(JobEventType.REJECTED);
        assertThat(rejected.getReason()).isEqualTo("insufficient credits: available 3600000, needs 10000000");
        assertNothingElse();
    }

    @Test
    void queuedJobIsMatchedWhenAWorkerAppears() {
        start();
        submit(Fx.job("job-3", "carol", 1, clock));
        ledger.readRecordsToList();
        assertThat(events.readValuesToList()).extracting(JobEvent::getType)
                .containsExactly(JobEventType.ACCEPTED, JobEventType.QUEUED);
        advance(1000);
        assertNothingElse();
        Identity w = worker("public", List.of(7));
        TestRecord<String, TaskAssigned> t = readTask();
        assertThat(t.key()).isEqualTo(w.workerId());
        assertThat(partitionOf(t)).isEqualTo(7);
        assertThat(events.readValue().getType()).isEqualTo(JobEventType.ASSIGNED);
        assertNothingElse();
    }

    @Test
    void thePoolStageTellsTheJobInputGateWhetherAJobOfItsPoolWaits() {
        start();
        assertThat(asks.asks("public", "SUCCEEDED")).as("a pool no pool stage holds yet").isTrue();
        submitTo("public", "job-w"); // no worker yet: it waits
        assertThat(asks.asks("public", "SUCCEEDED")).as("a result would free a slot a job waits for").isTrue();
        worker("public", List.of(7));
        assertThat(readTask().value().getJobId()).isEqualTo("job-w");
        assertThat(asks.asks("public", "SUCCEEDED")).as("nothing waits: the slot rides the interval").isFalse();
        assertThat(asks.asks("public", "HANDED_BACK")).as("a task handed back goes out again").isTrue();
        assertThat(asks.asks("elsewhere", "SUCCEEDED")).isTrue();
    }

    @Test
    void queueTimeoutExpiresAndRefundsTheWholeEscrow() {
        start();
        JobRequested job = Fx.job("job-4", "dave", 2, clock);
        job.setQueueTimeoutMs(5_000);
        submit(job);
        ledger.readRecordsToList();
        events.readRecordsToList();
        advance(6_000);
        LedgerEntry refund = ledger.readValue();
        assertThat(refund.getKind()).isEqualTo(EntryKind.REFUND);
        assertThat(refund.getTransactionId()).isEqualTo("refund:job-4");
        assertThat(refund.getPostings()).extracting(p -> p.getAccountId() + "=" + p.getAmountMicros())
                .containsExactly("escrow:job-4=-20000", "client:dave=20000");
        JobVerdict v = verdicts.readValue();
        assertThat(v.getOutcome()).isEqualTo(Outcome.EXPIRED);
        assertThat(v.getRefundMicros()).isEqualTo(20_000);
        assertThat(events.readValue().getType()).isEqualTo(JobEventType.EXPIRED);
        // the refund, read back from the ledger, restores the client's available balance
        Admission.Account acc = driver.<String, Admission.Account>getKeyValueStore(AdmissionProcessor.ACCOUNTS).get("dave");
        assertThat(acc.availableMicros()).isEqualTo(3_600_000);
        advance(10_000);
        assertNothingElse();
    }

    @Test
    void aJobNoRegisteredWorkerCouldEverRunEndsAfterThePoolsGraceSayingWhyAndRefunded() {
        start(MatcherConfig.from(io.agora.schemas.AgoraConfig.of(Map.of("agora.market.unmatched.grace.ms", "5000")))
                .withRetryBackoffMs(0));
        worker("public", List.of(1));
        JobRequested job = Fx.job("job-gpu", "gina", 1, clock);
        job.getRequirements().setGpuModel("H100");
        submit(job);
        ledger.readRecordsToList();
        String why = "no worker in pool public can run it: no matching gpu (1 worker)";
        assertThat(events.readValuesToList()).extracting(JobEvent::getReason)
                .contains("waiting for 1 eligible workers; " + why + " (it ends in 5 s unless one registers)");
        for (int s = 0; s < 4; s++) {
            advance(1_000);
        }
        assertNothingElse();
        for (int s = 0; s < 3; s++) {
            advance(1_000);
        }
        assertThat(ledger.readValue().getTransactionId()).isEqualTo("refund:job-gpu");
        JobVerdict v = verdicts.readValue();
        assertThat(v.getOutcome()).isEqualTo(Outcome.EXPIRED);
        assertThat(v.getRefundMicros()).isEqualTo(10_000);
        assertThat(v.getReason()).isEqualTo(why);
        assertThat(events.readValue().getReason()).isEqualTo(why);
        assertNothingElse();
    }

    @Test
    void expiredLeaseIsReassignedToAnotherWorkerWithPenalty() {
        start();
        Identity a = worker("public", List.of(0));
        Identity b = worker("public", List.of(1));
        submit(Fx.job("job-5", "erin", 1, clock));
        ledger.readRecordsToList();
        events.readRecordsToList();
        TaskAssigned first = readTask().value();
        String holder = first.getWorkerId();
        Identity other = holder.equals(a.workerId()) ? b : a;

        advance(8_000);
        beat(a, "public", List.of());
        beat(b, "public", List.of());
        advance(8_000);

        ReputationChanged penalty = reputation.readValue();
        assertThat(penalty.getWorkerId()).isEqualTo(holder);
        assertThat(penalty.getDelta()).isEqualTo(-20);
        assertThat(penalty.getReason()).isEqualTo("lease expired");
        TestRecord<String, TaskAssigned> again = readTask();
        assertThat(again.key()).isEqualTo(other.workerId());
        assertThat(again.value().getTaskId()).isEqualTo("job-5/0/1");
        JobEvent re = events.readValue();
        assertThat(re.getType()).isEqualTo(JobEventType.REASSIGNED);
        assertThat(re.getReason()).isEqualTo("lease expired");
        assertThat(re.getAttempt()).isEqualTo(1);
        assertNothingElse();
    }

    @Test
    void aResultGateReadingLateHoldsLeasesBackByItsLagButAFreshHeartbeatAfterItDoesNot() {
        start();
        Identity a = worker("public", List.of(0));
        submit(Fx.job("job-lag", "lea", 1, clock));
        ledger.readRecordsToList();
        events.readRecordsToList();
        readTask();
        advance(7_000);
        beat(a, "public", List.of());
        advance(7_000);
        // the job-input gate reads a result 8 s after it was written (it works through a backlog), then the
        // worker gate a fresh heartbeat: the pool stage has read everything the worker gate has, but the
        // results of the last 8 s may still wait behind the job-input gate
        results.pipeInput("job-other", SignedRecords.result(a, "job-other", 0, 0, ResultStatus.SUCCEEDED, "x", 1,
                Instant.ofEpochMilli(clock - 8_000), seq++), clock - 8_000);
        beat(a, "public", List.of());
        advance(2_000);
        assertThat(reputation.readRecordsToList()).as("16 s after the assignment, but only 10 s by what the gates read")
                .isEmpty();
        advance(7_000);
        beat(a, "public", List.of());
        ReputationChanged penalty = reputation.readValue();
        assertThat(penalty.getReason()).as("the gate caught up: no result came").isEqualTo("lease expired");
        assertThat(penalty.getWorkerId()).isEqualTo(a.workerId());
    }

    @Test
    void aWorkerStampingItsResultsInThePastHoldsOthersLeasesBackByOneGraceAtMost() {
        start();
        Identity first = worker("public", List.of(0));
        Identity second = worker("public", List.of(1));
        submit(Fx.job("job-held", "lea", 1, clock));
        ledger.readRecordsToList();
        events.readRecordsToList();
        // the worker that got the task lets it lapse; the other one lies about its results' times
        boolean firstHolds = readTask().value().getWorkerId().equals(first.workerId());
        Identity a = firstHolds ? first : second;
        Identity liar = firstHolds ? second : first;
        for (int s = 1; s <= 26; s++) {
            advance(1_000);
            // results of a job that does not exist, signed by the liar and stamped an hour ago
            results.pipeInput("job-none", SignedRecords.result(liar, "job-none", 0, 0, ResultStatus.SUCCEEDED, "x", 1,
                    Instant.ofEpochMilli(clock - 3_600_000), seq++), clock - 3_600_000);
            if (s % 2 == 0) {
                beat(a, "public", List.of());
                beat(liar, "public", List.of());
            }
        }
        // a's lease ran out at 15 s; an hour of claimed lag counts as one grace (10 s): expired by 26 s
        List<ReputationChanged> penalties = reputation.readValuesToList();
        assertThat(penalties).extracting(ReputationChanged::getWorkerId, ReputationChanged::getReason)
                .contains(org.assertj.core.groups.Tuple.tuple(a.workerId(), "lease expired"));
    }

    @Test
    void leaseRenewedByHeartbeatDoesNotExpire() {
        start();
        Identity a = worker("public", List.of(0));
        submit(Fx.job("job-6", "fay", 1, clock));
        ledger.readRecordsToList();
        events.readRecordsToList();
        String taskId = readTask().value().getTaskId();
        for (int i = 0; i < 4; i++) {
            advance(5_000);
            beat(a, "public", List.of(taskId));
        }
        // the first heartbeat holding the task started the job (STARTED, once); no expiry since
        JobEvent started = events.readValue();
        assertThat(started.getType()).isEqualTo(JobEventType.STARTED);
        assertThat(started.getWorkerId()).isEqualTo(a.workerId());
        assertNothingElse();
    }

    @Test
    void anIdleWorkerWhoseHeartbeatsReportNothingNewStaysOnlineAndTakesTheNextJob() {
        start();
        Identity a = worker("public", List.of(0));
        // the gate absorbs them all (QuietBeats) and judges liveness itself: never offline
        for (int i = 0; i < 30; i++) {
            advance(2_000);
            beat(a, "public", List.of());
        }
        assertThat(reputation.readRecordsToList()).as("no offline penalty").isEmpty();
        submit(Fx.job("job-idle", "ida", 1, clock));
        ledger.readRecordsToList();
        events.readRecordsToList();
        assertThat(readTask().key()).isEqualTo(a.workerId());
        assertNothingElse();
    }

    /** What the front stage hands the pool stage (the pool-events repartition topic). */
    TestOutputTopic<String, Flow.PoolEvent> poolEvents() {
        return driver.createOutputTopic(MatcherApp.APP_ID + "-" + MatcherTopology.POOL_EVENTS + "-repartition",
                SERDES.keySerde().deserializer(), FlowSerdes.poolEventSerde().deserializer());
    }

    @Test
    void theGateJudgesLivenessSoAnIdleWorkersHeartbeatsReachThePoolStageOnlyWhenTheyReportSomethingNew() {
        start();
        TestOutputTopic<String, Flow.PoolEvent> poolEvents = poolEvents();
        Identity a = worker("public", List.of(0));
        assertThat(poolEvents.readValuesToList()).as("its registration and first heartbeat")
                .extracting(e -> e.getClass().getSimpleName()).containsExactly("Registered", "Beat");
        for (int i = 0; i < 30; i++) {
            advance(4_000);
            beat(a, "public", List.of());
        }
        assertThat(poolEvents.readValuesToList()).as("two minutes of liveness-only heartbeats").isEmpty();
        // its heartbeats stop: the gate calls it silent once its grace (10 s) is over, and the pool takes it offline
        for (int s = 1; s <= 11; s++) {
            advance(1_000);
        }
        List<Flow.PoolEvent> judged = poolEvents.readValuesToList();
        assertThat(judged).first().isEqualTo(new Flow.Silent(a.workerId()));
        assertThat(judged).as("then the offline penalty, back through the gate").hasSize(2).last()
                .isInstanceOf(Flow.Reputation.class);
        ReputationChanged r = reputation.readValue();
        assertThat(r.getReason()).isEqualTo("offline");
        assertThat(r.getWorkerId()).isEqualTo(a.workerId());
        advance(30_000);
        assertThat(poolEvents.readValuesToList()).as("once per silence").isEmpty();
        // back: its next heartbeat goes on, though it reports what the last one did, and it takes the next job
        beat(a, "public", List.of());
        assertThat(poolEvents.readValuesToList()).extracting(e -> e.getClass().getSimpleName()).containsExactly("Beat");
        submit(Fx.job("job-back", "ida", 1, clock));
        ledger.readRecordsToList();
        events.readRecordsToList();
        assertThat(readTask().key()).isEqualTo(a.workerId());
        assertNothingElse();
    }

    @Test
    void whileTheGateReadsABurstLateTheHeartbeatsWaitingBehindItAreNoSilence() {
        start();
        TestOutputTopic<String, Flow.PoolEvent> poolEvents = poolEvents();
        Identity a = worker("public", List.of(0));
        // a burst: the gate's task works through registrations written 25 s before it reads them (more than two
        // graces), while the worker's heartbeats wait behind them in timestamp order (none is piped)
        for (int s = 1; s <= 30; s++) {
            advance(1_000);
            Identity newcomer = Identity.generate();
            registrations.pipeInput(newcomer.workerId(), SignedRecords.registration(newcomer,
                    Fx.caps("public", 500).build(), 1, clock - 25_000), clock - 25_000);
        }
        assertThat(poolEvents.readValuesToList()).as("30 s after its last heartbeat, but only 5 s by what was read")
                .noneMatch(Flow.Silent.class::isInstance);
        // the burst is over and still no heartbeat: with nothing left to read the lag counts down, and the
        // worker is silent once its grace has passed by what the task has read up to
        advance(1_000);
        advance(1_000);
        assertThat(poolEvents.readValuesToList()).noneMatch(Flow.Silent.class::isInstance);
        advance(1_000);
        assertThat(poolEvents.readValuesToList()).contains(new Flow.Silent(a.workerId()));
    }

    @Test
    void aBurstOfJobRequestsReadLateHoldsNoHeartbeatBackSoItDelaysNoSilence() {
        start();
        TestOutputTopic<String, Flow.PoolEvent> poolEvents = poolEvents();
        Identity a = worker("public", List.of(0));
        // admission is a task of its own: job requests read 25 s late are not ahead of the gate's heartbeats
        for (int s = 1; s <= 11; s++) {
            advance(1_000);
            requests.pipeInput("ida", Fx.job("job-burst-" + s, "ida", 1, clock - 25_000), clock - 25_000);
        }
        assertThat(poolEvents.readValuesToList()).contains(new Flow.Silent(a.workerId()));
    }

    @Test
    void aWorkerStampingItsHeartbeatsInThePastHoldsBackOthersSilenceByOneGraceAtMost() {
        start();
        TestOutputTopic<String, Flow.PoolEvent> poolEvents = poolEvents();
        Identity a = worker("public", List.of(0));
        Identity liar = worker("public", List.of(1));
        poolEvents.readValuesToList();
        for (int s = 1; s <= 30; s++) {
            advance(1_000);
            heartbeats.pipeInput(liar.workerId(), SignedRecords.heartbeat(liar, "public", seq++, clock, 2, List.of(1),
                    List.of()), clock - 3_600_000);
        }
        // a is silent since registering; the liar's records, an hour old by their time, count as 10 s of lag
        assertThat(poolEvents.readValuesToList()).contains(new Flow.Silent(a.workerId()))
                .doesNotContain(new Flow.Silent(liar.workerId()));
    }

    @Test
    void silentWorkerGoesOfflineLosesReputationAndItsTaskMoves() {
        start();
        Identity a = worker("public", List.of(0));
        submit(Fx.job("job-7", "gus", 1, clock));
        ledger.readRecordsToList();
        events.readRecordsToList();
        assertThat(readTask().key()).isEqualTo(a.workerId());
        advance(5_000);
        Identity b = worker("public", List.of(1));
        advance(6_000);
        ReputationChanged r = reputation.readValue();
        assertThat(r.getWorkerId()).isEqualTo(a.workerId());
        assertThat(r.getReason()).isEqualTo("offline");
        assertThat(r.getDelta()).as("the offline penalty").isEqualTo(MatcherConfig.defaults().offlinePenalty()).isEqualTo(-20);
        TestRecord<String, TaskAssigned> moved = readTask();
        assertThat(moved.key()).isEqualTo(b.workerId());
        assertThat(events.readValue().getReason()).isEqualTo("worker offline");
        assertNothingElse();
    }

    /**
     * A stream thread busy with what it fetched earlier does not poll, and the heartbeats wait on the broker:
     * the worker is not silent until its thread has fetched past the grace (256 slots per worker, issue 11).
     * Fails without {@link io.agora.runtime.Polls}: the worker is called offline while nothing was fetched.
     */
    @Test
    void aWorkerIsNotCalledSilentWhileTheMatchersThreadFetchesNothing() {
        start();
        try {
            Identity a = worker("public", List.of(0));
            submit(Fx.job("job-71", "gus", 1, clock));
            ledger.readRecordsToList();
            events.readRecordsToList();
            assertThat(readTask().key()).isEqualTo(a.workerId());
            io.agora.runtime.Polls.polling(clock);
            io.agora.runtime.Polls.polling(clock + 50);
            advance(15_000); // the thread processes and commits what it holds, and polls no more
            assertNothingElse();
            io.agora.runtime.Polls.polling(clock);
            io.agora.runtime.Polls.polling(clock + 50);
            advance(1_000); // it has fetched again: the worker sent nothing in the grace
            assertThat(reputation.readValue().getReason()).isEqualTo("offline");
        } finally {
            io.agora.runtime.Polls.reset();
        }
    }

    @Test
    void replicaOutOfAttemptsIsReportedToTheVerifier() {
        MatcherConfig cfg = MatcherConfig.defaults().withRetryBackoffMs(0);
        start(cfg);
        Identity a = worker("public", List.of(0));
        JobRequested job = Fx.job("job-8", "hal", 1, clock);
        job.setMaxAttempts(1);
        submit(job);
        ledger.readRecordsToList();
        events.readRecordsToList();
        readTask();
        advance(8_000);
        beat(a, "public", List.of());
        advance(8_000);
        assertThat(reputation.readValue().getReason()).isEqualTo("lease expired");
        JobCommand failed = commandsOut.readValue();
        assertThat(failed.getType()).isEqualTo(CommandType.REPLICA_FAILED);
        assertThat(failed.getReplica()).isEqualTo(0);
        assertNothingElse();
    }

    @Test
    void misroutedHandBackIsRoutedAgainToTheIntendedWorker() {
        start();
        Identity a = worker("public", List.of(0, 1));
        submit(Fx.job("job-9", "ida", 1, clock));
        ledger.readRecordsToList();
        events.readRecordsToList();
        TestRecord<String, TaskAssigned> t = readTask();
        assertThat(t.key()).isEqualTo(a.workerId());
        Identity stranger = Identity.generate();
        TaskResult back = TaskResult.newBuilder().setEventId(UUID.randomUUID().toString())
                .setTaskId(t.value().getTaskId()).setJobId("job-9").setWorkerId(stranger.workerId()).setPool("public")
                .setReplica(0).setAttempt(0).setStatus(ResultStatus.HANDED_BACK).setExitCode(-1).setOutputSha256("")
                .setDurationMs(0).setStartedAt(Instant.ofEpochMilli(clock)).setFinishedAt(Instant.ofEpochMilli(clock))
                .setSeq(1).setSignature(ByteBuffer.allocate(0)).build();
        results.pipeInput("job-9", Signatures.sign(back, stranger.privateKey()), clock);
        TestRecord<String, TaskAssigned> again = readTask();
        assertThat(again.key()).isEqualTo(a.workerId());
        assertThat(again.value().getTaskId()).isEqualTo(t.value().getTaskId());
        assertThat(partitionOf(again)).isNotEqualTo(partitionOf(t));
        JobEvent re = events.readValue();
        assertThat(re.getType()).isEqualTo(JobEventType.REASSIGNED);
        assertThat(re.getReason()).isEqualTo("misrouted");
        assertNothingElse();
    }

    @Test
    void aRegistrationWithoutASealKeyGoesToDlq() {
        start();
        Identity w = Identity.generate();
        registrations.pipeInput(w.workerId(), SignedRecords.registration(w, Fx.caps("public", 1).setSealKey(null).build(), 1, clock), clock);
        Identity bad = Identity.generate();
        registrations.pipeInput(bad.workerId(), SignedRecords.registration(bad, Fx.caps("public", 1).setSealKey("AAAA").build(), 1, clock), clock);
        assertThat(dlq.readRecordsToList()).hasSize(2).allSatisfy(dead -> assertThat(DeadLetters.header(dead.headers(),
                DeadLetters.H_REASON)).isEqualTo("registration without a valid sealKey (X25519, base64url): its tasks could not be sealed to it"));
        assertNothingElse();
    }

    @Test
    void forgedRegistrationGoesToDlqAndProcessingContinues() {
        start();
        Identity victim = Identity.generate();
        Identity forger = Identity.generate();
        WorkerRegistration forged = SignedRecords.registration(forger, Fx.caps("public", 1).build(), 1, clock);
        forged.setWorkerId(victim.workerId());
        registrations.pipeInput(victim.workerId(), forged, clock);
        TestRecord<byte[], byte[]> dead = dlq.readRecord();
        assertThat(DeadLetters.header(dead.headers(), DeadLetters.H_REASON)).startsWith("bad signature");
        assertThat(DeadLetters.header(dead.headers(), DeadLetters.H_TOPIC)).isEqualTo(Topics.REGISTRATIONS.name());
        assertThat(new String(dead.key(), StandardCharsets.UTF_8)).isEqualTo(victim.workerId());

        Identity good = worker("public", List.of(3));
        submit(Fx.job("job-10", "jo", 1, clock));
        ledger.readRecordsToList();
        events.readRecordsToList();
        assertThat(readTask().key()).isEqualTo(good.workerId());
        assertNothingElse();
    }

    @Test
    void replayedHeartbeatGoesToDlq() {
        start();
        Identity a = worker("public", List.of(0));
        Heartbeat old = SignedRecords.heartbeat(a, "public", 1, clock, 2, List.of(0), List.of());
        heartbeats.pipeInput(a.workerId(), old, clock);
        assertThat(DeadLetters.header(dlq.readRecord().headers(), DeadLetters.H_REASON)).startsWith("replayed heartbeat");
        assertNothingElse();
    }

    /** Registers each of {@code ids} in {@code pool}, owning {@code partitions}, with no heartbeat of its own. */
    void register(List<Identity> ids, String pool, List<Integer> partitions) {
        for (Identity id : ids) {
            owned.put(id.workerId(), partitions);
            registrations.pipeInput(id.workerId(), SignedRecords.registration(id, Fx.caps(pool, 500).build(), seq++, clock), clock);
        }
    }

    /** The record of host {@code ids.get(0)} with a beat of each of {@code ids}, each holding its tasks in {@code inFlight}. */
    HostHeartbeat hostBeat(List<Identity> ids, String pool, Map<String, List<String>> inFlight) {
        long s = seq++;
        String host = ids.get(0).workerId();
        List<HostedBeat> beats = ids.stream().map(id -> SignedRecords.hostedBeat(id, id.workerId(), host, s, pool, 2,
                owned.get(id.workerId()), inFlight.getOrDefault(id.workerId(), List.of()))).toList();
        return SignedRecords.hostHeartbeat(ids.get(0), s, clock, beats);
    }

    /** Sends a host's record as its worker does: keyed by its first identity. */
    void send(HostHeartbeat hb) {
        hostBeats.pipeInput(hb.getBeats().get(0).getWorkerId(), hb, clock);
    }

    static String reason(TestRecord<byte[], byte[]> deadLetter) {
        return DeadLetters.header(deadLetter.headers(), DeadLetters.H_REASON);
    }

    @Test
    void oneHostRecordBeatsForEachOfItsIdentitiesAsTheirOwnHeartbeatsWouldAndRenewsTheirLeases() {
        start();
        TestOutputTopic<String, Flow.PoolEvent> poolEvents = poolEvents();
        List<Identity> ids = SignedRecords.identitiesOfOnePartition(3);
        register(ids, "public", List.of(0));
        send(hostBeat(ids, "public", Map.of()));
        assertThat(poolEvents.readValuesToList()).as("the registrations, then a beat of each from the one record")
                .extracting(e -> e instanceof Flow.Beat b ? b.heartbeat().getWorkerId() : e.getClass().getSimpleName())
                .containsExactly("Registered", "Registered", "Registered",
                        ids.get(0).workerId(), ids.get(1).workerId(), ids.get(2).workerId());
        submit(Fx.job("job-host", "hal", 1, clock));
        ledger.readRecordsToList();
        events.readRecordsToList();
        TestRecord<String, TaskAssigned> task = readTask();
        String holder = task.key();
        assertThat(ids.stream().map(Identity::workerId)).contains(holder);
        poolEvents.readValuesToList(); // the admitted job
        for (int i = 0; i < 4; i++) {
            advance(5_000);
            send(hostBeat(ids, "public", Map.of(holder, List.of(task.value().getTaskId()))));
        }
        // past the lease's first end: renewed by the host's records on the matcher's clock; the first one started the job
        JobEvent started = events.readValue();
        assertThat(started.getType()).isEqualTo(JobEventType.STARTED);
        assertThat(started.getWorkerId()).isEqualTo(holder);
        assertThat(reputation.readRecordsToList()).as("no lease expired, no identity silent").isEmpty();
        assertThat(poolEvents.readValuesToList()).as("the idle identities' beats reported nothing new")
                .allSatisfy(e -> assertThat(((Flow.Beat) e).heartbeat().getWorkerId()).isEqualTo(holder));
        assertNothingElse();
    }

    @Test
    void aHostBeatingForAnIdentityItDoesNotHostIsDeadLetteredAndChangesNothing() {
        start();
        TestOutputTopic<String, Flow.PoolEvent> poolEvents = poolEvents();
        List<Identity> ids = SignedRecords.identitiesOfOnePartition(3);
        Identity host = ids.get(0);
        Identity victim = ids.get(1);
        Identity victimsHost = ids.get(2);
        register(ids, "public", List.of(0));
        poolEvents.readValuesToList();
        String h = host.workerId();
        String v = victim.workerId();
        // the victim's beat signed with the host's own key: it does not hold the victim's
        long s1 = seq++;
        send(SignedRecords.hostHeartbeat(host, s1, clock, List.of(
                SignedRecords.hostedBeat(host, h, h, s1, "public", 2, List.of(0), List.of()),
                SignedRecords.hostedBeat(host, v, h, s1, "public", 2, List.of(0), List.of()))));
        assertThat(reason(dlq.readRecord())).isEqualTo("host " + h + " beats for " + v
                + ", whose signature the beat does not carry: a host beats only for the identities it holds the keys of");
        // the victim's own beat, signed for the host that runs it, copied into this host's record
        long s2 = seq++;
        HostedBeat real = SignedRecords.hostedBeat(victim, v, victimsHost.workerId(), s2, "public", 2, List.of(0), List.of());
        send(SignedRecords.hostHeartbeat(host, s2, clock, List.of(
                SignedRecords.hostedBeat(host, h, h, s2, "public", 2, List.of(0), List.of()), real)));
        assertThat(reason(dlq.readRecord())).isEqualTo("host " + h + " beats for " + v + " with a beat signed for host "
                + victimsHost.workerId() + " seq " + s2 + ", not this record's seq " + s2);
        // that beat in a record naming its host, but signed by this one
        HostHeartbeat posing = SignedRecords.hostHeartbeat(host, s2, clock, List.of(real));
        posing.setHost(victimsHost.workerId());
        send(posing);
        assertThat(reason(dlq.readRecord())).isEqualTo("bad signature on host heartbeat of " + victimsHost.workerId());
        assertThat(poolEvents.readValuesToList()).as("nobody's beat went on, the host's own neither").isEmpty();
        assertNothingElse();
    }

    @Test
    void aReplayedReorderedOversizedOrMixedPartitionHostRecordIsDeadLettered() {
        start();
        List<Identity> ids = SignedRecords.identitiesOfOnePartition(2);
        register(ids, "public", List.of(0));
        HostHeartbeat first = hostBeat(ids, "public", Map.of());
        send(first);
        send(first);
        assertThat(reason(dlq.readRecord())).isEqualTo("replayed host heartbeat: seq " + first.getSeq() + " <= "
                + first.getSeq() + " of " + ids.get(0).workerId());
        HostHeartbeat next = hostBeat(ids, "public", Map.of());
        send(HostHeartbeat.newBuilder(next).setBeats(List.of(next.getBeats().get(1), next.getBeats().get(0))).build());
        assertThat(reason(dlq.readRecord())).isEqualTo("bad signature on host heartbeat of " + ids.get(0).workerId());
        Identity elsewhere = Identity.generate();
        while (HostBeats.partition(elsewhere.workerId()) == HostBeats.partition(ids.get(0).workerId())) {
            elsewhere = Identity.generate();
        }
        owned.put(elsewhere.workerId(), List.of(1));
        send(hostBeat(List.of(ids.get(0), elsewhere), "public", Map.of()));
        assertThat(reason(dlq.readRecord())).startsWith("host heartbeat out of bounds: beats must be of workers of one partition");
        HostHeartbeat one = hostBeat(ids.subList(0, 1), "public", Map.of());
        send(SignedRecords.hostHeartbeat(ids.get(0), one.getSeq(), clock,
                java.util.Collections.nCopies(HostBeats.MAX_BEATS + 1, one.getBeats().get(0))));
        assertThat(reason(dlq.readRecord())).isEqualTo("host heartbeat out of bounds: beats must hold 1.." + HostBeats.MAX_BEATS + " beats");
        assertNothingElse();
    }

    @Test
    void trustedPoolRefusesWorkersOffItsAllowlist() {
        Identity allowed = Identity.generate();
        start(MatcherConfig.defaults().withRetryBackoffMs(0).withAllowlist("secure", Set.of(allowed.workerId())));
        Identity outsider = Identity.generate();
        registrations.pipeInput(outsider.workerId(), SignedRecords.registration(outsider, Fx.caps("secure", 500).build(), 1, clock), clock);
        assertThat(DeadLetters.header(dlq.readRecord().headers(), DeadLetters.H_REASON))
                .isEqualTo("not on allowlist of pool secure");
        owned.put(allowed.workerId(), List.of(5));
        registrations.pipeInput(allowed.workerId(), SignedRecords.registration(allowed, Fx.caps("secure", 500).build(), 1, clock), clock);
        beat(allowed, "secure", List.of());
        submitTo("secure", "job-11");
        assertThat(readTask().key()).isEqualTo(allowed.workerId());
        assertNothingElse();
    }

    @Test
    void repeatedJobIdIsIgnored() {
        start();
        worker("public", List.of(0));
        JobRequested job = Fx.job("job-12", "lee", 1, clock);
        submit(job);
        assertThat(ledger.readRecordsToList()).hasSize(2);
        assertThat(events.readRecordsToList()).hasSize(2);
        readTask();
        submit(job);
        assertNothingElse();
    }

    @Test
    void cancelWhileQueuedRefundsOnce() {
        start();
        submit(Fx.job("job-13", "max", 1, clock));
        ledger.readRecordsToList();
        events.readRecordsToList();
        JobCommand cancel = JobCommand.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId("job-13")
                .setClientId("max").setPool("public").setType(CommandType.CANCEL)
                .setTimestamp(Instant.ofEpochMilli(clock)).build();
        commandsIn.pipeInput("job-13", cancel, clock);
        commandsIn.pipeInput("job-13", cancel, clock);
        List<LedgerEntry> refunds = ledger.readValuesToList();
        assertThat(refunds).hasSize(1);
        assertThat(refunds.get(0).getKind()).isEqualTo(EntryKind.REFUND);
        assertThat(refunds.get(0).getPostings().get(1).getAmountMicros()).isEqualTo(10_000);
        assertThat(verdicts.readValue().getOutcome()).isEqualTo(Outcome.CANCELLED);
        assertThat(events.readValue().getType()).isEqualTo(JobEventType.CANCELLED);
        worker("public", List.of(0));
        advance(2_000);
        assertNothingElse();
    }

    @Test
    void requestedReplicasGoToNewWorkersWithNextReplicaNumbers() {
        start();
        worker("public", List.of(0));
        worker("public", List.of(1));
        Identity c = worker("public", List.of(2));
        JobRequested job = Fx.job("job-14", "ned", 1, clock);
        job.setMaxTotalResults(3);
        submit(job);
        ledger.readRecordsToList();
        events.readRecordsToList();
        String first = readTask().key();
        String exclude = first.equals(c.workerId()) ? owned.keySet().stream().filter(w -> !w.equals(first)).findFirst().orElseThrow() : c.workerId();
        commandsIn.pipeInput("job-14", JobCommand.newBuilder().setEventId(UUID.randomUUID().toString())
                .setJobId("job-14").setClientId("ned").setPool("public").setType(CommandType.REQUEST_REPLICAS)
                .setCount(1).setExcludeWorkers(List.of(exclude)).setTimestamp(Instant.ofEpochMilli(clock)).build(), clock);
        TestRecord<String, TaskAssigned> extra = readTask();
        assertThat(extra.value().getReplica()).isEqualTo(1);
        assertThat(extra.key()).isNotIn(first, exclude);
        assertThat(events.readValue().getType()).isEqualTo(JobEventType.ASSIGNED);
        assertNothingElse();
    }

    JobCommand requestReplicas(String jobId, String client, int from, int count, List<String> exclude) {
        return JobCommand.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(jobId).setClientId(client)
                .setPool("public").setType(CommandType.REQUEST_REPLICAS).setCount(count).setReplica(from)
                .setExcludeWorkers(exclude).setTimestamp(Instant.ofEpochMilli(clock)).build();
    }

    @Test
    void requestedReplicasTakeTheVerifiersNumbersAndThoseBeyondTheBoundAreReportedFailed() {
        start();
        worker("public", List.of(0));
        worker("public", List.of(1));
        worker("public", List.of(2));
        JobRequested job = Fx.job("job-15", "olga", 1, clock);
        job.setMaxTotalResults(2);
        submit(job);
        ledger.readRecordsToList();
        events.readRecordsToList();
        String first = readTask().key();
        // the verifier asks for replicas 1 and 2 (e.g. a dispute of quorum 2); only replica 1 fits in maxTotalResults 2
        commandsIn.pipeInput("job-15", requestReplicas("job-15", "olga", 1, 2, List.of(first)), clock);
        TestRecord<String, TaskAssigned> extra = readTask();
        assertThat(extra.value().getTaskId()).isEqualTo("job-15/1/0");
        assertThat(extra.key()).isNotEqualTo(first);
        JobCommand refused = commandsOut.readValue();
        assertThat(refused.getType()).isEqualTo(CommandType.REPLICA_FAILED);
        assertThat(refused.getReplica()).isEqualTo(2);
        assertThat(refused.getReason()).isEqualTo("replica 2 is beyond maxTotalResults 2");
        assertThat(events.readValue().getType()).isEqualTo(JobEventType.ASSIGNED);
        // a redelivered request places nothing twice
        commandsIn.pipeInput("job-15", requestReplicas("job-15", "olga", 1, 1, List.of(first)), clock);
        assertNothingElse();
    }

    @Test
    void requestForAJobTheMatcherDoesNotRunIsAnsweredReplicaFailed() {
        start();
        commandsIn.pipeInput("gone", requestReplicas("gone", "pia", 3, 2, List.of()), clock);
        List<JobCommand> answers = commandsOut.readValuesToList();
        assertThat(answers).extracting(JobCommand::getType).containsOnly(CommandType.REPLICA_FAILED);
        assertThat(answers).extracting(JobCommand::getReplica).containsExactly(3, 4);
        assertThat(answers).extracting(JobCommand::getClientId).containsOnly("pia");
        assertNothingElse();
    }

    @Test
    void replicasStillLeasedWhenTheMatcherForgetsAJobAreReportedFailed() {
        start();
        Identity a = worker("public", List.of(0));
        JobRequested job = Fx.job("job-16", "quin", 1, clock);
        job.setDeadlineMs(20_000);
        submit(job);
        ledger.readRecordsToList();
        events.readRecordsToList();
        String taskId = readTask().value().getTaskId();
        for (int i = 0; i < 7; i++) { // the worker keeps the lease alive past the job's deadline
            advance(5_000);
            beat(a, "public", List.of(taskId));
        }
        assertThat(events.readValue().getType()).isEqualTo(JobEventType.STARTED);
        JobCommand failed = commandsOut.readValue();
        assertThat(failed.getType()).isEqualTo(CommandType.REPLICA_FAILED);
        assertThat(failed.getReplica()).isEqualTo(0);
        assertThat(failed.getReason()).isEqualTo("job deadline passed");
        assertNothingElse();
    }

    @Test
    void escrowInTheTermsIsExactlyTheHold() {
        start();
        worker("public", List.of(0));
        worker("public", List.of(1));
        JobRequested job = Fx.job("job-17", "ron", 2, clock);
        job.setMaxTotalResults(5);
        submit(job);
        List<LedgerEntry> entries = ledger.readValuesToList();
        LedgerEntry hold = entries.get(1);
        assertThat(hold.getKind()).isEqualTo(EntryKind.ESCROW_HOLD);
        long held = hold.getPostings().stream().filter(p -> p.getAccountId().equals("escrow:job-17"))
                .mapToLong(p -> p.getAmountMicros()).sum();
        assertThat(held).isEqualTo(50_000);
        assertThat(tasks.readValuesToList()).extracting(t -> t.getTerms().getEscrowMicros()).containsExactly(held, held);
    }

    // ---- poison input is refused at the gates, and the market goes on --------------------------

    String dlqReason() {
        TopologyHarness.DeadLetter dead = harness.deadLetter();
        assertThat(dead.app()).isEqualTo(MatcherApp.APP_ID);
        return dead.reason();
    }

    /** A fresh job is admitted and placed on a worker's own partition. */
    void marketGoesOn(String jobId) {
        submit(Fx.job(jobId, "zed", 1, clock));
        assertThat(ledger.readValuesToList()).isNotEmpty();
        assertThat(events.readValuesToList()).extracting(JobEvent::getType).contains(JobEventType.ASSIGNED);
        readTask();
        assertNothingElse();
    }

    @Test
    void aSignedHeartbeatOwningPartitionMinusOneIsDeadLetteredAndTheWorkerKeepsItsPartitions() {
        start();
        Identity a = worker("public", List.of(0));
        heartbeats.pipeInput(a.workerId(), SignedRecords.heartbeat(a, "public", seq++, clock, 2, List.of(-1), List.of()), clock);
        assertThat(dlqReason()).isEqualTo("heartbeat out of bounds: ownedPartitions must be partitions of the task topic, 0.."
                + (Topics.TASKS.partitions() - 1));
        heartbeats.pipeInput(a.workerId(), SignedRecords.heartbeat(a, "public", seq++, clock, 2,
                List.of(Topics.TASKS.partitions()), List.of()), clock);
        assertThat(dlqReason()).startsWith("heartbeat out of bounds: ownedPartitions");
        marketGoesOn("job-p1");
    }

    @Test
    void aResultWithATaskIdOver64KibIsDeadLetteredAndTheMarketGoesOn() {
        start();
        Identity a = worker("public", List.of(0));
        String huge = "j".repeat(70 * 1024);
        TaskResult r = TaskResult.newBuilder().setEventId(UUID.randomUUID().toString()).setTaskId(huge + "/0/0")
                .setJobId(huge).setWorkerId(a.workerId()).setPool("public").setReplica(0).setAttempt(0)
                .setStatus(ResultStatus.SUCCEEDED).setExitCode(0).setOutputSha256("").setDurationMs(1)
                .setStartedAt(Instant.ofEpochMilli(clock)).setFinishedAt(Instant.ofEpochMilli(clock)).setSeq(1)
                .setSignature(ByteBuffer.allocate(0)).build();
        results.pipeInput(huge, Signatures.sign(r, a.privateKey()), clock);
        assertThat(dlqReason()).isEqualTo(
                "task result out of bounds: jobId must be 1..200 characters; taskId must be at most 224 characters");
        marketGoesOn("job-p2");
    }

    @Test
    void aRequestForTwoBillionReplicasIsDeadLetteredNotAnsweredTwoBillionTimes() {
        start();
        worker("public", List.of(0));
        commandsIn.pipeInput("job-p3", JobCommand.newBuilder().setEventId(UUID.randomUUID().toString())
                .setJobId("job-p3").setClientId("zed").setPool("public").setType(CommandType.REQUEST_REPLICAS)
                .setReplica(0).setCount(Integer.MAX_VALUE).setExcludeWorkers(List.of())
                .setTimestamp(Instant.ofEpochMilli(clock)).build(), clock);
        assertThat(dlqReason()).isEqualTo("job command out of bounds: count must be between 0 and 1000");
        marketGoesOn("job-p4");
    }

    @Test
    void aJobWithAnIdOver64KibOrAnOverflowingDeadlineIsDeadLetteredBeforeAnyMoneyMoves() {
        start();
        worker("public", List.of(0));
        submit(Fx.job("k".repeat(70 * 1024), "zed", 1, clock));
        assertThat(dlqReason()).isEqualTo("job request out of bounds: jobId must be 1..200 visible ASCII characters without '/' or '|'");
        JobRequested forever = Fx.job("job-forever", "zed", 1, clock);
        forever.setDeadlineMs(Long.MAX_VALUE);
        submit(forever);
        assertThat(dlqReason()).startsWith("job request out of bounds: deadlineMs must be between 0 and ");
        assertNothingElse();
        marketGoesOn("job-p5");
    }

    @Test
    void aDepositOutOfBoundsIsDeadLetteredAndTheBalanceIsUntouched() {
        start();
        TestInputTopic<String, LedgerEntry> ledgerIn = in(Topics.LEDGER);
        ledgerIn.pipeInput("zed", LedgerEntry.newBuilder().setEventId(UUID.randomUUID().toString())
                .setTransactionId("deposit:zed:1").setClientId("zed").setKind(EntryKind.DEPOSIT).setMemo("")
                .setPostings(List.of(new io.agora.events.Posting("mint:deposits", -Long.MAX_VALUE),
                        new io.agora.events.Posting("client:zed", Long.MAX_VALUE)))
                .setTimestamp(Instant.ofEpochMilli(clock)).build(), clock);
        assertThat(dlqReason()).startsWith("ledger entry out of bounds: postings.amountMicros");
        worker("public", List.of(0));
        marketGoesOn("job-p6");
    }

    @Test
    void aResultTheWorkerDidNotSignEndsNoLeaseSoItStillExpiresWithThePenalty() {
        start();
        Identity a = worker("public", List.of(0));
        submit(Fx.job("job-u", "una", 1, clock));
        ledger.readRecordsToList();
        events.readRecordsToList();
        TaskAssigned t = readTask().value();
        TaskResult unsigned = TaskResult.newBuilder().setEventId(UUID.randomUUID().toString()).setTaskId(t.getTaskId())
                .setJobId("job-u").setWorkerId(a.workerId()).setPool("public").setReplica(0).setAttempt(0)
                .setStatus(ResultStatus.SUCCEEDED).setExitCode(0).setOutputSha256("").setDurationMs(1)
                .setStartedAt(Instant.ofEpochMilli(clock)).setFinishedAt(Instant.ofEpochMilli(clock)).setSeq(1)
                .setSignature(ByteBuffer.allocate(0)).build();
        results.pipeInput("job-u", unsigned, clock);
        advance(8_000);
        beat(a, "public", List.of());
        advance(8_000);
        ReputationChanged penalty = reputation.readValue();
        assertThat(penalty.getReason()).isEqualTo("lease expired");
        assertThat(penalty.getWorkerId()).isEqualTo(a.workerId());
        assertNothingElse();
    }

    // ---- dispute fees ------------------------------------------------------------------

    /** A client's DISPUTE of {@code jobId}, as ingest-api writes it (keyed by job, no fee held). */
    void disputeRequest(String clientId, String jobId) {
        commandsIn.pipeInput(jobId, JobCommand.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(jobId)
                .setClientId(clientId).setType(CommandType.DISPUTE).setReason("disputed by client")
                .setTimestamp(Instant.ofEpochMilli(clock)).build(), clock);
    }

    long available(String clientId) {
        return driver.<String, Admission.Account>getKeyValueStore(AdmissionProcessor.ACCOUNTS).get(clientId).availableMicros();
    }

    @Test
    void twoRacingDisputesWithMoneyForOneOpenOneTheOtherIsRefusedWithTheReasonAndTheLedgerBalances() {
        start();
        long fee = io.agora.market.MarketRules.DISPUTE_FEE_MICROS;
        List<LedgerEntry> book = new ArrayList<>();
        LedgerEntry deposit = io.agora.market.Postings.deposit("kim", "d1", fee * 3 / 2, null, clock);
        in(Topics.LEDGER).pipeInput("kim", deposit, clock);
        book.add(deposit);

        disputeRequest("kim", "job-a"); // both before either's hold reaches the ledger topic
        disputeRequest("kim", "job-b");
        List<TestRecord<String, LedgerEntry>> holds = ledger.readRecordsToList();
        assertThat(holds).as("one fee held, keyed by the client").singleElement().satisfies(r -> {
            assertThat(r.key()).isEqualTo("kim");
            assertThat(r.value().getTransactionId()).isEqualTo("dispute-fee:job-a");
            assertThat(legs(r.value())).isEqualTo(Map.of("client:kim", -fee, "escrow:job-a|dispute", fee));
        });
        holds.forEach(r -> book.add(r.value()));
        TestRecord<String, JobCommand> handedOn = commandsOut.readRecord();
        assertThat(handedOn.key()).isEqualTo("job-a");
        assertThat(handedOn.value().getType()).isEqualTo(CommandType.DISPUTE);
        assertThat(handedOn.value().getFeeHeldMicros()).as("the verifier opens it with the fee held").isEqualTo(fee);
        JobEvent refused = events.readValue();
        assertThat(refused.getJobId()).isEqualTo("job-b");
        assertThat(refused.getType()).isEqualTo(JobEventType.DISPUTED);
        assertThat(refused.getReason()).isEqualTo("refused: insufficient credits: available " + fee / 2
                + ", the dispute fee is " + fee);
        assertNothingElse();

        // the hold read back from the ledger topic is not applied twice; the same job is not disputed twice
        holds.forEach(r -> in(Topics.LEDGER).pipeInput(r.key(), r.value(), clock));
        assertThat(available("kim")).isEqualTo(fee / 2);
        disputeRequest("kim", "job-a");
        assertThat(events.readValue().getReason()).isEqualTo("refused: already disputed");
        assertNothingElse();

        // a job's escrow takes the balance before a dispute: the dispute is refused, not overdrawn
        JobRequested job = Fx.job("job-c", "kim", 1, clock);
        job.getRequirements().setMaxPricePerCpuSecondMicros(360_000);
        submit(job);
        List<LedgerEntry> admitted = ledger.readValuesToList();
        assertThat(admitted).extracting(LedgerEntry::getKind).containsExactly(EntryKind.STARTER_GRANT, EntryKind.ESCROW_HOLD);
        book.addAll(admitted);
        assertThat(events.readValuesToList()).extracting(JobEvent::getType).contains(JobEventType.ACCEPTED);
        long left = available("kim");
        assertThat(left).isLessThan(fee);
        disputeRequest("kim", "job-c");
        assertThat(events.readValue().getReason())
                .isEqualTo("refused: insufficient credits: available " + left + ", the dispute fee is " + fee);
        assertNothingElse();

        // the verifier refunds a dispute it refuses: the balance covers the next one again
        LedgerEntry refund = io.agora.market.Postings.disputeFeeRefund("job-a", "kim", fee, clock);
        in(Topics.LEDGER).pipeInput("kim", refund, clock);
        book.add(refund);
        long before = available("kim");
        disputeRequest("kim", "job-c");
        LedgerEntry hold = ledger.readValue();
        assertThat(hold.getTransactionId()).isEqualTo("dispute-fee:job-c");
        book.add(hold);
        assertThat(commandsOut.readValue().getFeeHeldMicros()).isEqualTo(fee);
        assertThat(available("kim")).isEqualTo(before - fee);
        assertNothingElse();

        Map<String, Long> balances = new HashMap<>();
        for (LedgerEntry e : book) {
            assertThat(e.getPostings().stream().mapToLong(io.agora.events.Posting::getAmountMicros).sum())
                    .as("balanced: " + e.getTransactionId()).isZero();
            e.getPostings().forEach(p -> balances.merge(p.getAccountId(), p.getAmountMicros(), Long::sum));
        }
        assertThat(balances.get("client:kim")).as("never overdrawn, and what admission holds available")
                .isEqualTo(available("kim")).isNotNegative();
        assertThat(book.stream().map(LedgerEntry::getTransactionId).filter(t -> t.startsWith("dispute-fee:")))
                .as("each job's fee held at most once").doesNotHaveDuplicates();
    }

    @Test
    void aDisputeOutOfBoundsIsDeadLetteredBeforeAnyFeeIsHeld() {
        start();
        commandsIn.pipeInput("job-a", JobCommand.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId("job-a")
                .setClientId("x".repeat(70_000)).setType(CommandType.DISPUTE).setTimestamp(Instant.ofEpochMilli(clock)).build(), clock);
        assertThat(dlqReason()).startsWith("job command out of bounds: clientId");
        assertNothingElse();
    }

    // ---- stakes ------------------------------------------------------------------------

    /** A PAYOUT of {@code micros} to {@code workerId}, as the verifier posts it (keyed by the client). */
    void paid(String workerId, String jobId, long micros) {
        in(Topics.LEDGER).pipeInput("client-1", io.agora.market.Postings.payout(jobId, "client-1", workerId, micros, clock), clock);
    }

    void register(Identity id, String pool, long stakeMicros) {
        WorkerRegistration reg = SignedRecords.registration(id.workerId(), Fx.caps(pool, 500).build(), seq++, clock);
        reg.setStakeMicros(stakeMicros);
        registrations.pipeInput(id.workerId(), Signatures.sign(reg, id.privateKey()), clock);
    }

    void stakeOrder(String workerId, String jobId, io.agora.events.StakeAction action, long reclaim, List<String> honest) {
        stakeOrder(workerId, jobId, action, reclaim, honest, clock);
    }

    /** A StakeOrder the verifier decided at {@code decidedAt}, read now. */
    void stakeOrder(String workerId, String jobId, io.agora.events.StakeAction action, long reclaim, List<String> honest,
                    long decidedAt) {
        in(Topics.REPUTATION).pipeInput(workerId, ReputationChanged.newBuilder().setEventId(UUID.randomUUID().toString())
                .setWorkerId(workerId).setDelta(action == io.agora.events.StakeAction.SLASH ? -10 : 0)
                .setReason("dispute " + action).setJobId(jobId).setTimestamp(Instant.ofEpochMilli(decidedAt))
                .setStake(new io.agora.events.StakeOrder(action, "client-1", reclaim, honest)).build(), clock);
    }

    static Map<String, Long> legs(LedgerEntry e) {
        Map<String, Long> m = new HashMap<>();
        e.getPostings().forEach(p -> m.merge(p.getAccountId(), p.getAmountMicros(), Long::sum));
        return m;
    }

    @Test
    void aWorkerBondsFromWhatItWasPaidAndAPoolsMinimumStakeKeepsOutAWorkerWithout() {
        start(MatcherConfig.defaults().withRetryBackoffMs(0).withMinStake("open", 2_000));
        Identity poor = Identity.generate();
        owned.put(poor.workerId(), List.of(1));
        register(poor, "open", 5_000);
        assertThat(DeadLetters.header(dlq.readRecord().headers(), DeadLetters.H_REASON))
                .startsWith("stake 0 below the minimum 2000 of pool open");

        Identity rich = Identity.generate();
        owned.put(rich.workerId(), List.of(2));
        paid(rich.workerId(), "old-job", 3_000);
        register(rich, "open", 5_000);
        TestRecord<String, LedgerEntry> stake = ledger.readRecord();
        assertThat(stake.key()).isEqualTo(rich.workerId());
        assertThat(stake.value().getKind()).isEqualTo(EntryKind.STAKE);
        assertThat(legs(stake.value())).isEqualTo(Map.of("worker:" + rich.workerId(), -3_000L,
                "stake:" + rich.workerId(), 3_000L));
        beat(rich, "open", List.of());
        beat(poor, "open", List.of());

        submitTo("open", "job-s1");
        assertThat(readTask().key()).as("only the staked worker is in the pool").isEqualTo(rich.workerId());
        assertNothingElse();
    }

    @Test
    void anUnbondDuringAnOpenDisputeIsRefusedAndOneAskedAfterItIsReturnedAfterTheCoolDown() {
        start(MatcherConfig.defaults().withRetryBackoffMs(0));
        Identity w = Identity.generate();
        owned.put(w.workerId(), List.of(1));
        paid(w.workerId(), "old-job", 4_000);
        register(w, "public", 4_000);
        assertThat(ledger.readValue().getKind()).isEqualTo(EntryKind.STAKE);

        stakeOrder(w.workerId(), "job-d", io.agora.events.StakeAction.LOCK, 0, List.of());
        register(w, "public", 0); // flee the dispute
        advance(MatcherConfig.defaults().stakeCoolDownMs() + 1_000);
        assertThat(ledger.readRecordsToList()).as("no unbond while a dispute names the worker").isEmpty();

        stakeOrder(w.workerId(), "job-d", io.agora.events.StakeAction.RELEASE, 0, List.of());
        long asked = seq;
        register(w, "public", 1_000);
        advance(MatcherConfig.defaults().stakeCoolDownMs() - 5_000);
        assertThat(ledger.readRecordsToList()).as("the cool-down is not over").isEmpty();
        advance(10_000);
        LedgerEntry unstake = ledger.readValue();
        assertThat(unstake.getKind()).isEqualTo(EntryKind.UNSTAKE);
        assertThat(unstake.getTransactionId()).isEqualTo("unstake:" + w.workerId() + ":" + asked);
        assertThat(legs(unstake)).isEqualTo(Map.of("stake:" + w.workerId(), -3_000L, "worker:" + w.workerId(), 3_000L));
        reputation.readRecordsToList();
        events.readRecordsToList();
        assertNothingElse();
    }

    @Test
    void anUnbondReadBeforeTheDisputesLockButAskedAfterTheDisputeOpenedIsRefusedByTheLock() {
        start(MatcherConfig.defaults().withRetryBackoffMs(0));
        long coolDown = MatcherConfig.defaults().stakeCoolDownMs();
        Identity w = Identity.generate();
        owned.put(w.workerId(), List.of(1));
        paid(w.workerId(), "old-job", 4_000);
        register(w, "public", 4_000);
        assertThat(ledger.readValue().getKind()).isEqualTo(EntryKind.STAKE);

        long opened = clock;
        advance(1_000);
        register(w, "public", 0); // a second after the dispute opened, read before its LOCK (another topic)
        stakeOrder(w.workerId(), "job-d", io.agora.events.StakeAction.LOCK, 0, List.of(), opened);
        advance(coolDown + 1_000);
        assertThat(ledger.readRecordsToList()).as("no unbond while a dispute names the worker").isEmpty();
        stakeOrder(w.workerId(), "job-d", io.agora.events.StakeAction.RELEASE, 0, List.of());
        advance(coolDown + 1_000);
        assertThat(ledger.readRecordsToList()).as("the refused unbond stays refused: the worker asks again").isEmpty();
        reputation.readRecordsToList();
        events.readRecordsToList();
        assertNothingElse();
    }

    @Test
    void aSlashedLiarPaysTheClientBackIsSplitAsDocumentedAndLeavesAPoolWhoseMinimumItNoLongerMeets() {
        start(MatcherConfig.defaults().withRetryBackoffMs(0).withMinStake("open", 6_000));
        Identity liar = Identity.generate();
        owned.put(liar.workerId(), List.of(1));
        paid(liar.workerId(), "old-job", 10_000);
        register(liar, "open", 10_000);
        paid(liar.workerId(), "job-x", 800); // what the disputed job paid it
        beat(liar, "open", List.of());
        ledger.readRecordsToList();

        stakeOrder(liar.workerId(), "job-x", io.agora.events.StakeAction.LOCK, 0, List.of());
        stakeOrder(liar.workerId(), "job-x", io.agora.events.StakeAction.SLASH, 800, List.of("h1", "h2"));
        TestRecord<String, LedgerEntry> slash = ledger.readRecord();
        assertThat(slash.key()).isEqualTo("client-1");
        assertThat(slash.value().getKind()).isEqualTo(EntryKind.SLASH);
        assertThat(slash.value().getTransactionId()).isEqualTo("slash:job-x:" + liar.workerId());
        assertThat(legs(slash.value())).isEqualTo(Map.of(
                "worker:" + liar.workerId(), -800L, "stake:" + liar.workerId(), -5_000L,
                "client:client-1", 800L + 2_000L, "worker:h1", 1_000L, "worker:h2", 1_000L,
                io.agora.market.Accounts.MINT_SLASHED, 1_000L));
        assertThat(slash.value().getPostings().stream().mapToLong(io.agora.events.Posting::getAmountMicros).sum()).isZero();
        TestRecord<String, io.agora.events.SlashResult> result = slashes.readRecord();
        assertThat(result.key()).as("keyed by the job, for the verifier").isEqualTo("job-x");
        assertThat(result.value().getClientId()).isEqualTo("client-1");
        assertThat(result.value().getTaken()).isEqualTo(new io.agora.events.SlashTaken(liar.workerId(), 800L, 5_000L, 2_000L,
                List.of(new io.agora.events.SlashShare("h1", 1_000L), new io.agora.events.SlashShare("h2", 1_000L)), 1_000L));
        assertThat(io.agora.market.Postings.slash("job-x", "client-1", result.value().getTaken(), 0).getPostings())
                .as("what the result says was taken is the SLASH posted").isEqualTo(slash.value().getPostings());

        // a worker the gate holds nothing of is slashed too: its result says nothing was taken, and no SLASH is posted
        stakeOrder("stranger", "job-x", io.agora.events.StakeAction.SLASH, 800, List.of("h1", "h2"));
        assertThat(slashes.readValue().getTaken()).isEqualTo(new io.agora.events.SlashTaken("stranger", 0L, 0L, 0L, List.of(), 0L));
        assertThat(ledger.readRecordsToList()).isEmpty();

        submitTo("open", "job-after");
        assertThat(tasks.readRecordsToList()).as("slashed below the pool's minimum: no longer matched").isEmpty();
    }

    /** The stake the pool stage keeps for {@code id} (what matching weighs), -1 when not in the pool. */
    long poolStakeOf(String pool, Identity id) {
        PoolState.Worker w = driver.<String, PoolState.Worker>getKeyValueStore(PoolMarketProcessor.WORKERS)
                .get(pool + "|" + id.workerId());
        return w == null ? -1 : w.stakeMicros;
    }

    @Test
    void aSlashLowersTheStakeMatchingWeighsAtOnceAndReRegisteringWithTheSameKeyDoesNotBringTheOldStakeBack() {
        start(MatcherConfig.defaults().withRetryBackoffMs(0).withMinStake("open", 2_000).withMinStake("strict", 6_000));
        Identity liar = Identity.generate();
        owned.put(liar.workerId(), List.of(1));
        paid(liar.workerId(), "old-job", 10_000);
        register(liar, "open", 10_000);
        paid(liar.workerId(), "job-x", 800);
        beat(liar, "open", List.of());
        ledger.readRecordsToList();
        assertThat(poolStakeOf("open", liar)).isEqualTo(10_000);

        stakeOrder(liar.workerId(), "job-x", io.agora.events.StakeAction.LOCK, 0, List.of());
        stakeOrder(liar.workerId(), "job-x", io.agora.events.StakeAction.SLASH, 800, List.of("h1"));
        assertThat(ledger.readValue().getKind()).isEqualTo(EntryKind.SLASH);
        assertThat(poolStakeOf("open", liar)).as("the slash lowers the pool's stake at once, not at the next registration")
                .isEqualTo(5_000);

        // the same key registers again asking for the old stake: nothing is left to bond it from
        register(liar, "open", 10_000);
        assertThat(ledger.readRecordsToList()).as("no bond: what the job paid was reclaimed").isEmpty();
        assertThat(poolStakeOf("open", liar)).isEqualTo(5_000);
        register(liar, "strict", 10_000);
        assertThat(dlqReason()).startsWith("stake 5000 below the minimum 6000 of pool strict");
        assertThat(poolStakeOf("strict", liar)).isEqualTo(-1);
        assertThat(poolStakeOf("open", liar)).isEqualTo(5_000);

        // a second slash takes it below the open pool's minimum: it leaves the pool and gets no new task
        stakeOrder(liar.workerId(), "job-y", io.agora.events.StakeAction.LOCK, 0, List.of());
        stakeOrder(liar.workerId(), "job-y", io.agora.events.StakeAction.SLASH, 0, List.of("h1"));
        stakeOrder(liar.workerId(), "job-z", io.agora.events.StakeAction.LOCK, 0, List.of());
        stakeOrder(liar.workerId(), "job-z", io.agora.events.StakeAction.SLASH, 0, List.of("h1"));
        assertThat(poolStakeOf("open", liar)).as("1250 < 2000: out of the pool").isEqualTo(-1);
        submitTo("open", "job-after");
        assertThat(tasks.readRecordsToList()).isEmpty();
        register(liar, "open", 10_000);
        assertThat(dlqReason()).startsWith("stake 1250 below the minimum 2000 of pool open");
    }

    // ---- proof of hardware ---------------------------------------------------------------

    double poolScoreOf(Identity id) {
        return driver.<String, PoolState.Worker>getKeyValueStore(PoolMarketProcessor.WORKERS)
                .get("public|" + id.workerId()).capabilities.getBenchmarkScore();
    }

    /** Registers {@code id} with a proof of {@code seed}, arriving (broker time) at {@code arrival}. */
    void registerWithBenchmark(Identity id, double claimed, String seed, long arrival) {
        registerWithProof(id, claimed, io.agora.market.ProofOfHardware.run(seed, 20), arrival);
    }

    void registerWithProof(Identity id, double claimed, io.agora.market.ProofOfHardware.Proof proof, long arrival) {
        long regSeq = seq++;
        WorkerCapabilities caps = Fx.caps("public", 500).setBenchmarkScore(claimed < 0 ? proof.score() : claimed)
                .setBenchmarkProof(proof.toEvent()).build();
        registrations.pipeInput(id.workerId(), SignedRecords.registration(id, caps, regSeq, clock), arrival);
    }

    static String challenge(long issuedAt, Identity... ids) {
        return io.agora.market.PohChallenge.issue(CHALLENGE_KEY,
                java.util.Arrays.stream(ids).map(Identity::workerId).toList(), issuedAt);
    }

    @Test
    void theMatcherTrustsABenchmarkScoreOnlyWithAProofThatAnswersAFreshMarketChallengeNamingTheWorker() {
        start();
        Identity honest = Identity.generate();
        io.agora.market.ProofOfHardware.Proof proof = io.agora.market.ProofOfHardware.run(challenge(clock, honest), 20);
        registerWithProof(honest, -1, proof, clock + 1_000);
        assertThat(poolScoreOf(honest)).as("proven, at most its steps over the second from issue to arrival")
                .isPositive().isLessThanOrEqualTo(proof.steps() / 1_000.0);

        Identity precomputed = Identity.generate();
        registerWithBenchmark(precomputed, -1, io.agora.market.ProofOfHardware.seed(precomputed.workerId(), seq), clock);
        assertThat(poolScoreOf(precomputed)).as("a seed of its own, computable in advance").isZero();

        Identity forger = Identity.generate();
        registerWithBenchmark(forger, -1, io.agora.market.PohChallenge.issue(
                "not the market's key, 32 bytes!!".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                List.of(forger.workerId()), clock), clock + 100);
        assertThat(poolScoreOf(forger)).as("a nonce the market did not issue").isZero();

        Identity replayer = Identity.generate();
        registerWithProof(replayer, -1, proof, clock + 1_000);
        assertThat(poolScoreOf(replayer)).as("someone else's proof").isZero();

        Identity boaster = Identity.generate();
        registerWithBenchmark(boaster, 1e9, challenge(clock, boaster), clock + 100);
        assertThat(poolScoreOf(boaster)).as("claims more than its proof shows").isZero();

        registerWithProof(honest, -1, proof, clock + io.agora.market.PohChallenge.WINDOW_MS + 1);
        assertThat(poolScoreOf(honest)).as("its own proof, replayed after the challenge's window").isZero();

        assertThat(driver.<String, PoolState.Worker>getKeyValueStore(PoolMarketProcessor.WORKERS)
                .get("public|" + honest.workerId()).capabilities.getBenchmarkProof()).as("the proof is not kept").isNull();
        assertThat(dlq.readRecordsToList()).as("a registration is not refused for its score").isEmpty();
    }

    @Test
    void theIdentitiesOfOneHostShareOneProof() {
        start();
        Identity a = Identity.generate();
        Identity b = Identity.generate();
        io.agora.market.ProofOfHardware.Proof proof = io.agora.market.ProofOfHardware.run(challenge(clock, a, b), 20);
        registerWithProof(a, -1, proof, clock + 500);
        registerWithProof(b, -1, proof, clock + 500);
        assertThat(poolScoreOf(a)).isPositive();
        assertThat(poolScoreOf(b)).isEqualTo(poolScoreOf(a));
        // a forged variant of the shared proof (same claim, different chain) is checked again and refused
        Identity c = Identity.generate();
        io.agora.market.ProofOfHardware.Proof other = io.agora.market.ProofOfHardware.run(challenge(clock, c), 20);
        List<String> wrong = new ArrayList<>(other.checkpoints());
        wrong.replaceAll(h -> "00".repeat(32));
        registerWithProof(c, other.score(), new io.agora.market.ProofOfHardware.Proof(other.seed(), other.steps(),
                other.elapsedMs(), other.score(), "00".repeat(32), other.stride(), wrong), clock + 500);
        assertThat(poolScoreOf(c)).as("no segment of a made-up chain recomputes").isZero();
    }

    // ---- checked bandwidth ---------------------------------------------------------------

    /** Registers {@code id} claiming {@code mbps} with {@code attestation}, arriving (broker time) at {@code arrival}. */
    int registeredMbps(Identity id, int mbps, String attestation, long arrival) {
        WorkerCapabilities caps = Fx.caps("public", 500).setNetworkMbps(mbps).setNetworkAttestation(attestation).build();
        registrations.pipeInput(id.workerId(), SignedRecords.registration(id, caps, seq++, clock), arrival);
        WorkerCapabilities kept = driver.<String, PoolState.Worker>getKeyValueStore(PoolMarketProcessor.WORKERS)
                .get("public|" + id.workerId()).capabilities;
        assertThat(kept.getNetworkAttestation()).as("the attestation is not kept").isNull();
        return kept.getNetworkMbps();
    }

    static String attestation(int mbps, long issuedAt, Identity... ids) {
        return io.agora.market.BandwidthAttestation.issue(CHALLENGE_KEY,
                java.util.Arrays.stream(ids).map(Identity::workerId).toList(), mbps, issuedAt);
    }

    @Test
    void theMatcherCountsABandwidthClaimOnlyUpToAFreshMarketAttestationNamingTheWorker() {
        start();
        Identity honest = Identity.generate();
        Identity coHosted = Identity.generate();
        String attested = attestation(800, clock, honest, coHosted);
        assertThat(registeredMbps(honest, 2_000, attested, clock + 1_000)).as("bounded by the attested figure").isEqualTo(800);
        assertThat(registeredMbps(coHosted, 300, attested, clock + 1_000)).as("a claim below it stands").isEqualTo(300);
        assertThat(registeredMbps(Identity.generate(), 2_000, null, clock)).as("absent: an unchecked claim").isZero();
        assertThat(registeredMbps(Identity.generate(), 2_000, attested, clock)).as("another worker's").isZero();
        Identity forger = Identity.generate();
        String forged = io.agora.market.BandwidthAttestation.issue(
                "not the market's key, 32 bytes!!".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                List.of(forger.workerId()), 10_000, clock);
        assertThat(registeredMbps(forger, 10_000, forged, clock)).as("not signed by the market").isZero();
        assertThat(registeredMbps(forger, 10_000, attestation(800, clock, forger).replace(":800:", ":10000:"), clock))
                .as("a figure raised after signing").isZero();
        assertThat(registeredMbps(honest, 2_000, attested, clock + io.agora.market.BandwidthAttestation.VALID_MS + 1))
                .as("stale: its own attestation, past its validity").isZero();
        assertThat(dlq.readRecordsToList()).as("a registration is not refused for its bandwidth").isEmpty();
    }
}
