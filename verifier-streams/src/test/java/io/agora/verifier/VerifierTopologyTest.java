package io.agora.verifier;

import io.agora.events.CommandType;
import io.agora.events.JobCommand;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobSpec;
import io.agora.events.JobTerms;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.events.ReceiptPayout;
import io.agora.events.Posting;
import io.agora.events.ReputationChanged;
import io.agora.events.ResultStatus;
import io.agora.events.Strategy;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.market.Accounts;
import io.agora.market.MarketRules;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Assignments;
import io.agora.schemas.Identity;
import io.agora.schemas.Receipts;
import io.agora.market.Pricing;
import io.agora.schemas.Signatures;
import io.agora.schemas.Topics;
import io.agora.schemas.Traces;
import io.agora.schemas.testing.SignedRecords;
import io.agora.schemas.testing.TopologyHarness;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

class VerifierTopologyTest {
    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
    /** Tasks were assigned a minute before the verifier's wall clock starts: results are paid up to that. */
    private static final Instant ASSIGNED = T0.minusSeconds(60);
    private static final long MAX_PRICE = 200;
    private static final long WORKER_PRICE = 100;
    private static final JobSpec SPEC = JobSpec.newBuilder()
            .setImage("alpine:3").setCommand(List.of("echo", "hi")).setTimeoutMs(10_000).setCpus(1.0).build();
    private static final String OUT_A = "answer A";
    private static final String OUT_B = "answer B";

    @TempDir
    Path stateDir;

    private final AgoraSerdes serdes = AgoraSerdes.plain();
    private final Identity w1 = Identity.generate();
    private final Identity w2 = Identity.generate();
    private final Identity w3 = Identity.generate();
    private final Identity w4 = Identity.generate();
    private TopologyHarness harness;
    private TopologyTestDriver driver;
    private TestInputTopic<String, TaskAssigned> tasksIn;
    private TestInputTopic<String, TaskResult> resultsIn;
    private TestInputTopic<String, JobCommand> commandsIn;
    private TestInputTopic<String, ReputationChanged> reputationIn;
    private TestOutputTopic<String, JobVerdict> verdicts;
    private final Identity market = Identity.generate();
    private final Identity matcher = Identity.generate();
    private TestOutputTopic<String, JobEvent> events;
    private TestOutputTopic<String, LedgerEntry> ledger;
    private TestOutputTopic<String, ReputationChanged> reputation;
    private TestOutputTopic<String, JobCommand> commands;
    private TestOutputTopic<byte[], byte[]> dlq;
    private long ts = T0.toEpochMilli();

    @BeforeEach
    void setUp() {
        harness = new TopologyHarness(VerifierTopology.build(VerifierConfig.defaults(), serdes, market, matcher.workerId()),
                VerifierConfig.APP_ID, stateDir, T0, serdes);
        driver = harness.driver();
        tasksIn = harness.in(Topics.ASSIGNMENTS);
        resultsIn = harness.in(Topics.RESULTS);
        commandsIn = harness.in(Topics.JOB_COMMANDS);
        reputationIn = harness.in(Topics.REPUTATION);
        verdicts = harness.out(Topics.VERDICTS);
        events = harness.out(Topics.JOB_EVENTS);
        ledger = harness.out(Topics.LEDGER);
        reputation = harness.out(Topics.REPUTATION);
        commands = harness.out(Topics.JOB_COMMANDS);
        dlq = harness.dlq();
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    // ---- scenarios ---------------------------------------------------------------------

    @Test
    void stakeWeightedConsensusWeighsTheStakesTheLedgerBonded() {
        TestInputTopic<String, LedgerEntry> ledgerIn = harness.in(Topics.LEDGER);
        for (Identity w : List.of(w1, w2)) { // w1, w2 bond 9 credits each (the matcher's gate posts it)
            ledgerIn.pipeInput(w.workerId(), io.agora.market.Postings.stake(w.workerId(), 1, 9_000_000, ts), ts);
        }
        JobTerms terms = terms("job-sw", Strategy.STAKE_WEIGHTED, 4, 2, 4);
        assign(task("job-sw", w1, 0, 0, terms), task("job-sw", w2, 1, 0, terms), task("job-sw", w3, 2, 0, terms),
                task("job-sw", w4, 3, 0, terms));
        submit(result("job-sw", w3, 2, 0, OUT_B, 1_000));
        submit(result("job-sw", w1, 0, 0, OUT_A, 1_000));
        submit(result("job-sw", w4, 3, 0, OUT_B, 1_000));
        assertThat(verdicts.isEmpty()).as("two unstaked votes do not outweigh one staked").isTrue();
        submit(result("job-sw", w2, 1, 0, OUT_A, 1_000));
        JobVerdict v = single(verdicts.readKeyValuesToList(), "job-sw");
        assertThat(v.getConsensusHash()).isEqualTo(hash(OUT_A));
        assertThat(v.getAgreeing()).containsExactlyInAnyOrder(w1.workerId(), w2.workerId());
    }

    @Test
    void theVerdictAndItsMoneyContinueTheTraceOfTheDecidingResult() {
        String traceId = "0af7651916cd43dd8448eb211c80319c";
        JobTerms terms = terms("job-t", Strategy.K_OF_N, 2, 2, 5);
        assign(task("job-t", w1, 0, 0, terms), task("job-t", w2, 1, 0, terms));
        submit(result("job-t", w1, 0, 0, OUT_A, 1_000));
        events.readRecordsToList(); // the first replica's, untraced
        TaskResult deciding = result("job-t", w2, 1, 0, OUT_A, 1_000);
        resultsIn.pipeInput(new TestRecord<>(deciding.getJobId(), deciding, new RecordHeaders().add(Traces.HEADER,
                ("00-" + traceId + "-b7ad6b7169203331-01").getBytes(StandardCharsets.UTF_8)), ts++));

        List<TestRecord<String, ?>> caused = new java.util.ArrayList<>(verdicts.readRecordsToList());
        assertThat(caused).hasSize(1);
        List<TestRecord<String, LedgerEntry>> money = ledger.readRecordsToList();
        assertThat(money).isNotEmpty();
        caused.addAll(money);
        caused.addAll(events.readRecordsToList());
        for (TestRecord<String, ?> r : caused) {
            assertThat(Traces.traceId(r.headers())).as(r.value().toString()).isEqualTo(traceId);
            assertThat(new String(r.headers().lastHeader(Traces.HEADER).value(), StandardCharsets.UTF_8))
                    .as("the verifier's own span").doesNotContain("b7ad6b7169203331");
        }
    }

    @Test
    void twoOfThreeAgreeingCompletesPaysTheAgreeingAndRefundsTheRest() {
        JobTerms terms = twoOfThree("job-1");
        submit(result("job-1", w1, 0, 0, OUT_A, 4_000));
        submit(result("job-1", w2, 1, 0, OUT_B, 3_000));
        assertThat(verdicts.isEmpty()).isTrue();
        submit(result("job-1", w3, 2, 0, OUT_A, 6_000));

        JobVerdict v = single(verdicts.readKeyValuesToList(), "job-1");
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(v.getConsensusHash()).isEqualTo(hash(OUT_A));
        assertThat(v.getOutput()).isEqualTo(OUT_A);
        assertThat(v.getExitCode()).isZero();
        assertThat(v.getAgreeing()).containsExactly(w1.workerId(), w3.workerId());
        assertThat(v.getDissenting()).containsExactly(w2.workerId());
        long pay1 = Pricing.payout(WORKER_PRICE, MAX_PRICE, 4_000, 10_000, 1.0);
        long pay3 = Pricing.payout(WORKER_PRICE, MAX_PRICE, 6_000, 10_000, 1.0);
        assertThat(v.getCostMicros()).isEqualTo(pay1 + pay3).isEqualTo(1_000);
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros() - 1_000);
        assertThat(Receipts.problems(v.getReceipt(), market.workerId())).as("the receipt, through the topic's serde").isEmpty();
        assertThat(v.getReceipt().getPayouts()).extracting(ReceiptPayout::getMicros).containsExactly(pay1, pay3);

        List<KeyValue<String, LedgerEntry>> entries = ledger.readKeyValuesToList();
        assertThat(entries).extracting(kv -> kv.key).containsOnly("client-1");
        assertThat(entries).extracting(kv -> kv.value.getTransactionId())
                .containsExactly("payout:job-1:" + w1.workerId(), "payout:job-1:" + w3.workerId(), "refund:job-1");
        assertBalancedAndEscrowEmptied("job-1", terms.getEscrowMicros(), entries);
        assertThat(balance(entries, Accounts.worker(w1.workerId()))).isEqualTo(pay1);
        assertThat(balance(entries, Accounts.worker(w2.workerId()))).isZero();

        assertThat(reputationByWorker()).containsExactlyInAnyOrderEntriesOf(Map.of(
                w1.workerId(), 5, w3.workerId(), 5, w2.workerId(), -10));
        assertThat(eventTypes()).containsExactly(JobEventType.REPLICA_FINISHED, JobEventType.REPLICA_FINISHED,
                JobEventType.REPLICA_FINISHED, JobEventType.VERDICT, JobEventType.COMPLETED);
        assertNoOtherOutput();
    }

    @Test
    void aTwoOfThreeJobWritesItsStateOncePerInput() {
        twoOfThree("job-c");
        submit(result("job-c", w1, 0, 0, OUT_A, 1_000));
        submit(result("job-c", w2, 1, 0, OUT_A, 1_000));
        submit(result("job-c", w3, 2, 0, OUT_A, 1_000)); // late: scored, never paid
        assertThat(single(verdicts.readKeyValuesToList(), "job-c").getOutcome()).isEqualTo(Outcome.COMPLETED);

        // the test driver commits after every input, so this is the most a job writes: six inputs
        Map<String, Long> writes = changelogWrites();
        System.out.println("changelog records of a 2-of-3 job: " + writes);
        assertThat(writes).containsExactlyInAnyOrderEntriesOf(Map.of(
                "verifier-jobs", 6L, "verifier-retire", 1L));
    }

    @Test
    void theSweepFindsOpenJobsInTheirRecordsAndEmptiesTheIndexAnEarlierBuildKept() {
        // written before the task's first sweep: only the job's record says it is open
        long deadline = twoOfThree("job-r").getDeadline().toEpochMilli();
        submit(result("job-r", w1, 0, 0, OUT_A, 1_000));
        // as a build before OpenJobs left it: the open jobs' deadlines in verifier-open
        KeyValueStore<String, Long> former = driver.getKeyValueStore(VerifierTopology.OPEN_STORE);
        former.put("job-r", deadline);

        driver.advanceWallClockTime(Duration.ofSeconds(2));
        assertThat(former.get("job-r")).as("emptied at the first sweep").isNull();
        assertThat(verdicts.isEmpty()).isTrue();
        driver.advanceWallClockTime(Duration.ofSeconds(59));
        assertThat(single(verdicts.readKeyValuesToList(), "job-r").getOutcome()).isEqualTo(Outcome.EXPIRED);
    }

    @Test
    void aJobWhoseTasksAndResultsAnEarlierBuildKeptInTheirOwnStoresGoesOnAndMovesThemIntoItsRecord() {
        twoOfThree("job-u");
        submit(result("job-u", w1, 0, 0, OUT_A, 4_000));
        // as a build before JobRecord left it: the state alone in verifier-jobs, tasks and results in their stores
        KeyValueStore<String, JobRecord> jobStore = driver.getKeyValueStore(VerifierTopology.JOBS_STORE);
        KeyValueStore<String, TaskAssigned> taskStore = driver.getKeyValueStore(VerifierTopology.TASKS_STORE);
        KeyValueStore<String, TaskResult> resultStore = driver.getKeyValueStore(VerifierTopology.RESULTS_STORE);
        JobRecord kept = jobStore.get("job-u");
        jobStore.put("job-u", new JobRecord(kept.state(), new java.util.TreeMap<>(), new java.util.HashMap<>()));
        kept.tasks().forEach(taskStore::put);
        kept.results().forEach(resultStore::put);

        submit(result("job-u", w2, 1, 0, OUT_A, 6_000));
        JobVerdict v = single(verdicts.readKeyValuesToList(), "job-u");
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(v.getAgreeing()).containsExactly(w1.workerId(), w2.workerId());
        assertThat(v.getReceipt().getPayouts()).extracting(ReceiptPayout::getMicros).containsExactly(
                Pricing.payout(WORKER_PRICE, MAX_PRICE, 4_000, 10_000, 1.0), Pricing.payout(WORKER_PRICE, MAX_PRICE, 6_000, 10_000, 1.0));
        JobRecord moved = jobStore.get("job-u");
        assertThat(moved.tasks()).containsOnlyKeys("job-u/0/0", "job-u/1/0", "job-u/2/0");
        assertThat(moved.results()).containsOnlyKeys("job-u/0/0", "job-u/1/0");
        assertThat(taskStore.get("job-u/0/0")).isNull();
        assertThat(resultStore.get("job-u/0/0")).isNull();
        // a redelivered result the former store held is still known: ignored, not counted twice
        submit(result("job-u", w1, 0, 0, OUT_A, 4_000));
        assertThat(verdicts.isEmpty()).isTrue();
        assertThat(jobStore.get("job-u").state().counted).containsExactly("job-u/0/0", "job-u/1/0");
    }

    @Test
    void anAgreeingWorkersPerJobMinimumIsPaidWhenItsTimeIsWorthLess() {
        // share of one replica: 200 µ x 10 s x 1 cpu = 2,000 µ; w1 asks at least 1,500 per job
        JobTerms terms = terms("job-min", Strategy.K_OF_N, 2, 2, 2);
        TaskAssigned t1 = task("job-min", w1, 0, 0, terms);
        t1.setMinPricePerJobMicros(1_500);
        assign(t1, task("job-min", w2, 1, 0, terms));
        submit(result("job-min", w1, 0, 0, OUT_A, 2_000));
        submit(result("job-min", w2, 1, 0, OUT_A, 2_000));

        JobVerdict v = single(verdicts.readKeyValuesToList(), "job-min");
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        // by time both earned 100 µ x 2 s = 200 µ; w1's minimum raises its share to 1,500
        List<KeyValue<String, LedgerEntry>> entries = ledger.readKeyValuesToList();
        assertThat(balance(entries, Accounts.worker(w1.workerId()))).isEqualTo(1_500);
        assertThat(balance(entries, Accounts.worker(w2.workerId()))).isEqualTo(200);
        assertThat(v.getCostMicros()).isEqualTo(1_700);
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros() - 1_700);
        assertBalancedAndEscrowEmptied("job-min", terms.getEscrowMicros(), entries);
    }

    @Test
    void forgedSignatureGoesToTheDlqAndProcessingContinues() {
        JobTerms terms = terms("job-2", Strategy.K_OF_N, 2, 2, 2);
        assign(task("job-2", w1, 0, 0, terms), task("job-2", w2, 1, 0, terms));
        TaskResult forged = result("job-2", w1, 0, 0, OUT_A, 1_000);
        forged.setOutputSha256(hash("tampered"));
        submit(forged);
        assertDeadLetter("job-2", "bad signature");
        TaskResult signedByOther = unsigned("job-2", w1, 0, 0, OUT_A, 1_000);
        Signatures.sign(signedByOther, w4.privateKey());
        submit(signedByOther);
        assertDeadLetter("job-2", "bad signature");

        submit(result("job-2", w1, 0, 0, OUT_A, 1_000));
        submit(result("job-2", w2, 1, 0, OUT_A, 1_000));
        assertThat(single(verdicts.readKeyValuesToList(), "job-2").getOutcome()).isEqualTo(Outcome.COMPLETED);
        ledger.readKeyValuesToList();
        reputation.readKeyValuesToList();
        events.readKeyValuesToList();
        assertNoOtherOutput();
    }

    @Test
    void resultFromAWorkerTheTaskWasNotAssignedToGoesToTheDlq() {
        JobTerms terms = terms("job-3", Strategy.K_OF_N, 2, 2, 2);
        assign(task("job-3", w1, 0, 0, terms), task("job-3", w2, 1, 0, terms));
        submit(result("job-3", w3, 0, 0, OUT_A, 1_000)); // validly signed by w3, but replica 0 is w1's
        assertDeadLetter("job-3", "not assigned to this worker");
        assertNoOtherOutput();
    }

    @Test
    void impossibleAgreementRequestsReplicasThenEndsNoConsensusAtTheBound() {
        JobTerms terms = terms("job-4", Strategy.K_OF_N, 3, 2, 4);
        assign(task("job-4", w1, 0, 0, terms), task("job-4", w2, 1, 0, terms), task("job-4", w3, 2, 0, terms));
        submit(result("job-4", w1, 0, 0, "one", 1_000));
        submit(result("job-4", w2, 1, 0, "two", 1_000));
        submit(result("job-4", w3, 2, 0, "three", 1_000));

        JobCommand req = single(commands.readKeyValuesToList(), "job-4");
        assertThat(req.getType()).isEqualTo(CommandType.REQUEST_REPLICAS);
        assertThat(req.getCount()).isEqualTo(1);
        assertThat(req.getReplica()).as("extra replicas are numbered from n").isEqualTo(3);
        assertThat(req.getClientId()).isEqualTo("client-1");
        assertThat(req.getExcludeWorkers()).containsExactlyInAnyOrder(w1.workerId(), w2.workerId(), w3.workerId());
        assertThat(verdicts.isEmpty()).isTrue();

        assign(task("job-4", w4, 3, 0, terms));
        submit(result("job-4", w4, 3, 0, "four", 1_000));
        JobVerdict v = single(verdicts.readKeyValuesToList(), "job-4");
        assertThat(v.getOutcome()).isEqualTo(Outcome.NO_CONSENSUS);
        assertThat(v.getCostMicros()).isZero();
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros());
        List<KeyValue<String, LedgerEntry>> entries = ledger.readKeyValuesToList();
        assertThat(entries).extracting(kv -> kv.value.getTransactionId()).containsExactly("refund:job-4");
        assertBalancedAndEscrowEmptied("job-4", terms.getEscrowMicros(), entries);
        assertThat(eventTypes()).endsWith(JobEventType.VERDICT, JobEventType.NO_CONSENSUS);
        assertNoOtherOutput();
    }

    @Test
    void failedReplicasWithoutAnyVoteEndFailed() {
        JobTerms terms = terms("job-f", Strategy.K_OF_N, 2, 2, 2);
        assign(task("job-f", w1, 0, 0, terms), task("job-f", w2, 1, 0, terms));
        submit(failed("job-f", w1, 0, 0, ResultStatus.SANDBOX_ERROR)); // the market's failure: no ballot
        commandsIn.pipeInput("job-f", JobCommand.newBuilder().setEventId("rf").setJobId("job-f").setClientId("client-1")
                .setType(CommandType.REPLICA_FAILED).setReplica(1).setReason("lease expired 3 times").setTimestamp(T0).build(), ts);
        JobVerdict v = single(verdicts.readKeyValuesToList(), "job-f");
        assertThat(v.getOutcome()).isEqualTo(Outcome.FAILED);
        assertThat(ledger.readValuesToList()).extracting(LedgerEntry::getTransactionId).containsExactly("refund:job-f");
        assertThat(reputationByWorker()).containsExactlyEntriesOf(Map.of(w1.workerId(), -5));
        events.readKeyValuesToList();
        assertNoOtherOutput();
    }

    @Test
    void deadlineExpiresTheJobWithAFullRefund() {
        JobTerms terms = terms("job-5", Strategy.K_OF_N, 2, 2, 2);
        assign(task("job-5", w1, 0, 0, terms), task("job-5", w2, 1, 0, terms));
        submit(result("job-5", w1, 0, 0, OUT_A, 1_000));
        events.readKeyValuesToList();
        driver.advanceWallClockTime(Duration.ofSeconds(59));
        assertThat(verdicts.isEmpty()).isTrue();
        driver.advanceWallClockTime(Duration.ofSeconds(2));

        JobVerdict v = single(verdicts.readKeyValuesToList(), "job-5");
        assertThat(v.getOutcome()).isEqualTo(Outcome.EXPIRED);
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros());
        List<KeyValue<String, LedgerEntry>> entries = ledger.readKeyValuesToList();
        assertThat(entries).extracting(kv -> kv.value.getTransactionId()).containsExactly("refund:job-5");
        assertBalancedAndEscrowEmptied("job-5", terms.getEscrowMicros(), entries);
        assertThat(eventTypes()).containsExactly(JobEventType.VERDICT, JobEventType.EXPIRED);
        driver.advanceWallClockTime(Duration.ofSeconds(10));
        assertNoOtherOutput();
    }

    /**
     * A stream thread busy with what it fetched goes seconds without a poll: a result written before the deadline
     * waits on the broker, and the job is not EXPIRED for it. Fails without {@link io.agora.runtime.Polls}.
     */
    @Test
    void aJobIsNotExpiredWhileItsThreadHasNotFetchedPastTheDeadline() {
        JobTerms terms = terms("job-5", Strategy.K_OF_N, 2, 2, 2);
        assign(task("job-5", w1, 0, 0, terms), task("job-5", w2, 1, 0, terms));
        submit(result("job-5", w1, 0, 0, OUT_A, 1_000));
        events.readKeyValuesToList();
        try {
            driver.advanceWallClockTime(Duration.ofSeconds(58));
            long at = T0.toEpochMilli() + 58_000;
            io.agora.runtime.Polls.polling(at);
            io.agora.runtime.Polls.polling(at + 50); // then it processes and commits what it holds, and polls no more
            driver.advanceWallClockTime(Duration.ofSeconds(10));
            assertThat(verdicts.isEmpty()).as("nothing fetched since before the deadline").isTrue();
            submit(result("job-5", w2, 1, 0, OUT_A, 1_000)); // written in time, fetched now
            assertThat(single(verdicts.readKeyValuesToList(), "job-5").getOutcome()).isEqualTo(Outcome.COMPLETED);
        } finally {
            io.agora.runtime.Polls.reset();
        }
    }

    @Test
    void aJobArrivingAfterAnIdleSpellStillExpiresOnTime() {
        // nothing open: the sweep slows to every 30 s; the job's arrival brings the 1 s sweep back
        driver.advanceWallClockTime(Duration.ofSeconds(5));
        driver.advanceWallClockTime(Duration.ofSeconds(5));
        JobTerms terms = terms("job-5", Strategy.K_OF_N, 2, 2, 2);
        assign(task("job-5", w1, 0, 0, terms), task("job-5", w2, 1, 0, terms));
        submit(result("job-5", w1, 0, 0, OUT_A, 1_000));
        events.readKeyValuesToList();
        driver.advanceWallClockTime(Duration.ofSeconds(49));
        assertThat(verdicts.isEmpty()).isTrue();
        driver.advanceWallClockTime(Duration.ofSeconds(2));
        assertThat(single(verdicts.readKeyValuesToList(), "job-5").getOutcome()).isEqualTo(Outcome.EXPIRED);
    }

    @Test
    void lateResultAfterTheVerdictOnlyMovesReputation() {
        JobTerms terms = terms("job-6", Strategy.K_OF_N, 3, 2, 3);
        assign(task("job-6", w1, 0, 0, terms), task("job-6", w2, 1, 0, terms), task("job-6", w3, 2, 0, terms));
        submit(result("job-6", w1, 0, 0, OUT_A, 1_000));
        submit(result("job-6", w2, 1, 0, OUT_A, 1_000));
        assertThat(single(verdicts.readKeyValuesToList(), "job-6").getAgreeing()).hasSize(2);
        ledger.readKeyValuesToList();
        reputation.readKeyValuesToList();
        events.readKeyValuesToList();

        submit(result("job-6", w3, 2, 0, OUT_B, 1_000));
        List<KeyValue<String, ReputationChanged>> late = reputation.readKeyValuesToList();
        assertThat(late).hasSize(1);
        assertThat(late.get(0).key).isEqualTo(w3.workerId());
        assertThat(late.get(0).value.getDelta()).isEqualTo(-10);
        assertNoOtherOutput();
    }

    @Test
    void cancelRefundsOnceEvenWhenSentTwice() {
        JobTerms terms = terms("job-7", Strategy.K_OF_N, 2, 2, 2);
        assign(task("job-7", w1, 0, 0, terms), task("job-7", w2, 1, 0, terms));
        submit(result("job-7", w1, 0, 0, OUT_A, 1_000));
        events.readKeyValuesToList();
        cancel("job-7");
        cancel("job-7");
        JobVerdict v = single(verdicts.readKeyValuesToList(), "job-7");
        assertThat(v.getOutcome()).isEqualTo(Outcome.CANCELLED);
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros());
        assertThat(ledger.readValuesToList()).extracting(LedgerEntry::getTransactionId).containsExactly("refund:job-7");
        assertThat(eventTypes()).containsExactly(JobEventType.VERDICT, JobEventType.CANCELLED);
        submit(result("job-7", w2, 1, 0, OUT_A, 1_000)); // no consensus to score against
        assertNoOtherOutput();
    }

    @Test
    void cancelBeforeTheFirstTaskIsAppliedWhenItArrives() {
        cancel("job-8");
        assertNoOtherOutput();
        JobTerms terms = terms("job-8", Strategy.K_OF_N, 2, 2, 2);
        assign(task("job-8", w1, 0, 0, terms));
        assertThat(single(verdicts.readKeyValuesToList(), "job-8").getOutcome()).isEqualTo(Outcome.CANCELLED);
        assertThat(ledger.readValuesToList()).extracting(LedgerEntry::getTransactionId).containsExactly("refund:job-8");
        events.readKeyValuesToList();
        assign(task("job-8", w2, 1, 0, terms));
        assertNoOtherOutput();
    }

    @Test
    void redeliveredResultCountsOnceAndAConflictingOneGoesToTheDlq() {
        JobTerms terms = terms("job-9", Strategy.K_OF_N, 3, 2, 3);
        assign(task("job-9", w1, 0, 0, terms), task("job-9", w2, 1, 0, terms), task("job-9", w3, 2, 0, terms));
        TaskResult r = result("job-9", w1, 0, 0, OUT_A, 1_000);
        submit(r);
        submit(TaskResult.newBuilder(r).build());
        assertThat(eventTypes()).containsExactly(JobEventType.REPLICA_FINISHED);
        assertThat(verdicts.isEmpty()).isTrue();
        submit(result("job-9", w1, 0, 0, OUT_B, 1_000));
        assertDeadLetter("job-9", "conflicting duplicate");
        assertNoOtherOutput();
    }

    @Test
    void resultBeforeItsTaskWaitsForIt() {
        JobTerms terms = terms("job-10", Strategy.FIRST, 1, 1, 1);
        submit(result("job-10", w1, 0, 0, OUT_A, 2_000));
        assertNoOtherOutput();
        assign(task("job-10", w1, 0, 0, terms));
        JobVerdict v = single(verdicts.readKeyValuesToList(), "job-10");
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(ledger.readValuesToList()).extracting(LedgerEntry::getTransactionId)
                .containsExactly("payout:job-10:" + w1.workerId(), "refund:job-10");
        reputation.readKeyValuesToList();
        events.readKeyValuesToList();
        assertNoOtherOutput();
    }

    @Test
    void resultForATaskThatNeverArrivesGoesToTheDlqAfterTheTimeout() {
        submit(result("ghost", w1, 0, 0, OUT_A, 1_000));
        driver.advanceWallClockTime(Duration.ofSeconds(30));
        assertNoOtherOutput();
        driver.advanceWallClockTime(Duration.ofSeconds(31));
        assertDeadLetter("ghost", "unknown task");
        assertNoOtherOutput();
    }

    @Test
    void aDecidedJobIsRetiredAfterItsRetentionAndThenNothingAboutItMovesMoney() {
        agreeTwoOfTwo("job-old", 2);
        assertThat(single(verdicts.readKeyValuesToList(), "job-old").getOutcome()).isEqualTo(Outcome.COMPLETED);
        ledger.readRecordsToList();
        events.readRecordsToList();
        reputation.readRecordsToList();
        KeyValueStore<String, JobRecord> jobStore = driver.getKeyValueStore(VerifierTopology.JOBS_STORE);
        assertThat(jobStore.get("job-old").tasks()).containsOnlyKeys("job-old/0/0", "job-old/1/0");
        assertThat(jobStore.get("job-old").results()).containsOnlyKeys("job-old/0/0", "job-old/1/0");

        // the deadline (60 s) plus the default retention (7 days) has not passed yet: a repeated CANCEL is still ignored
        driver.advanceWallClockTime(Duration.ofDays(7));
        assertThat(jobStore.get("job-old")).isNotNull();
        cancel("job-old");
        assertNoOtherOutput();
        driver.advanceWallClockTime(Duration.ofMinutes(2));
        assertThat(jobStore.get("job-old")).isNull();
        assertNoOtherOutput();

        // after it: a CANCEL is remembered for a job never seen and forgotten, never refunding anything
        cancel("job-old");
        driver.advanceWallClockTime(Duration.ofDays(2));
        assertThat(jobStore.get("job-old")).isNull();
        // and a late result answers no known task: the DLQ, with the reason
        submit(result("job-old", w1, 0, 0, OUT_A, 1_000));
        driver.advanceWallClockTime(Duration.ofSeconds(61));
        assertDeadLetter("job-old", "unknown task");
        assertNoOtherOutput();
    }

    @Test
    void adaptiveTrustsAVeteranAloneButNotANewcomer() {
        for (int i = 0; i < 20; i++) {
            reputationIn.pipeInput(w1.workerId(), ReputationChanged.newBuilder().setEventId("r" + i).setWorkerId(w1.workerId())
                    .setDelta(5).setReason("agreed with consensus").setJobId("old-" + i).setTimestamp(T0).build(), ts);
        }
        JobTerms veteranJob = terms("job-11", Strategy.ADAPTIVE, 1, 1, 3);
        assign(task("job-11", w1, 0, 0, veteranJob));
        submit(result("job-11", w1, 0, 0, OUT_A, 1_000));
        assertThat(single(verdicts.readKeyValuesToList(), "job-11").getOutcome()).isEqualTo(Outcome.COMPLETED);
        ledger.readKeyValuesToList();
        reputation.readKeyValuesToList();
        events.readKeyValuesToList();

        JobTerms newcomerJob = terms("job-12", Strategy.ADAPTIVE, 1, 1, 3);
        assign(task("job-12", w2, 0, 0, newcomerJob));
        submit(result("job-12", w2, 0, 0, OUT_A, 1_000));
        assertThat(verdicts.isEmpty()).isTrue();
        JobCommand req = single(commands.readKeyValuesToList(), "job-12");
        assertThat(req.getCount()).isEqualTo(1);
        assertThat(req.getExcludeWorkers()).containsExactly(w2.workerId());
        assign(task("job-12", w3, 1, 0, newcomerJob));
        submit(result("job-12", w3, 1, 0, OUT_A, 1_000));
        JobVerdict v = single(verdicts.readKeyValuesToList(), "job-12");
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(v.getAgreeing()).containsExactly(w2.workerId(), w3.workerId());
        ledger.readKeyValuesToList();
        reputation.readKeyValuesToList();
        events.readKeyValuesToList();
        assertNoOtherOutput();
    }

    @Test
    void reputationWeightedCompletesWhenTheAgreeingSideOutweighs() {
        JobTerms terms = terms("job-13", Strategy.REPUTATION_WEIGHTED, 3, 0, 3);
        assign(task("job-13", w1, 0, 0, terms), task("job-13", w2, 1, 0, terms), task("job-13", w3, 2, 0, terms));
        submit(result("job-13", w1, 0, 0, OUT_A, 1_000));
        submit(result("job-13", w2, 1, 0, OUT_B, 1_000));
        assertThat(verdicts.isEmpty()).isTrue();
        submit(result("job-13", w3, 2, 0, OUT_A, 1_000));
        JobVerdict v = single(verdicts.readKeyValuesToList(), "job-13");
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(v.getConsensusHash()).isEqualTo(hash(OUT_A));
    }

    @Test
    void disputeThatOverturnsTheConsensusCostsTheOriginalAgreeingWorkersReputation() {
        JobTerms terms = terms("job-14", Strategy.K_OF_N, 2, 2, 4); // 2 dispute replicas fit in maxTotalResults
        assign(task("job-14", w1, 0, 0, terms), task("job-14", w2, 1, 0, terms));
        submit(result("job-14", w1, 0, 0, OUT_A, 1_000));
        submit(result("job-14", w2, 1, 0, OUT_A, 1_000));
        single(verdicts.readKeyValuesToList(), "job-14");
        ledger.readKeyValuesToList();
        reputation.readKeyValuesToList();
        events.readKeyValuesToList();

        dispute("job-14");
        JobCommand req = single(commands.readKeyValuesToList(), "job-14");
        assertThat(req.getType()).isEqualTo(CommandType.REQUEST_REPLICAS);
        assertThat(req.getCount()).isEqualTo(2);
        assertThat(req.getReplica()).as("first dispute replica number").isEqualTo(2);
        assertThat(events.readValuesToList()).extracting(JobEvent::getType).containsExactly(JobEventType.DISPUTED);

        assign(task("job-14", w3, 2, 0, terms), task("job-14", w4, 3, 0, terms));
        submit(result("job-14", w3, 2, 0, OUT_B, 1_000));
        submit(result("job-14", w4, 3, 0, OUT_B, 1_000));
        List<JobEvent> ev = events.readValuesToList();
        assertThat(ev).extracting(JobEvent::getType).containsExactly(JobEventType.REPLICA_FINISHED,
                JobEventType.REPLICA_FINISHED, JobEventType.DISPUTED);
        assertThat(ev.get(2).getReason()).startsWith("overturned");
        assertThat(reputationByWorker()).containsExactlyInAnyOrderEntriesOf(Map.of(
                w1.workerId(), -10, w2.workerId(), -10, w3.workerId(), 5, w4.workerId(), 5));
        List<KeyValue<String, LedgerEntry>> fee = new ArrayList<>(List.of(KeyValue.pair("client-1", // admission's hold
                io.agora.market.Postings.disputeFee("job-14", "client-1", MarketRules.DISPUTE_FEE_MICROS, T0.toEpochMilli()))));
        fee.addAll(ledger.readKeyValuesToList());
        assertThat(fee).extracting(kv -> kv.value.getTransactionId())
                .containsExactly("dispute-fee:job-14", "dispute-fee-refund:job-14");
        assertThat(balance(fee, Accounts.client("client-1"))).as("overturned: the fee goes back").isZero();
        assertThat(balance(fee, Accounts.disputeEscrow("job-14"))).isZero();
        assertNoOtherOutput(); // the slashes are the matcher's gate's to post

        // the gate's results of the two SLASHes: the second one in settles the dispute with a signed receipt
        var slashes = harness.in(Topics.SLASHES);
        var taken1 = new io.agora.events.SlashTaken(w1.workerId(), 100L, 500L, 200L,
                List.of(new io.agora.events.SlashShare(w3.workerId(), 100L), new io.agora.events.SlashShare(w4.workerId(), 100L)), 100L);
        var taken2 = new io.agora.events.SlashTaken(w2.workerId(), 0L, 0L, 0L, List.of(), 0L);
        slashes.pipeInput("job-14", new io.agora.events.SlashResult("s1", "job-14", "client-1", taken1, T0));
        slashes.pipeInput("job-15", new io.agora.events.SlashResult("s2", "job-14", "client-1", taken2, T0));
        List<TopologyHarness.DeadLetter> letters = harness.deadLetters();
        assertThat(letters).singleElement().satisfies(l -> {
            assertThat(l.key()).isEqualTo("job-15");
            assertThat(l.reason()).isEqualTo("record key is not the job id job-14");
            assertThat(l.topic()).as("its own topic's bytes").isEqualTo(Topics.SLASHES.name());
            assertThat(l.value(serdes, Topics.SLASHES).getTaken()).isEqualTo(taken2);
        });
        assertThat(events.isEmpty()).isTrue();
        slashes.pipeInput("job-14", new io.agora.events.SlashResult("s3", "job-14", "client-1", taken2, T0));
        JobEvent settled = single(events.readKeyValuesToList(), "job-14");
        assertThat(settled.getReason()).startsWith("settled: 2 slashes took 600 micro-credits");
        assertThat(settled.getSettlementReceipt().getSlashes()).containsExactly(taken1, taken2);
        assertThat(io.agora.schemas.Receipts.problems(settled.getSettlementReceipt(), market.workerId())).isEmpty();
        assertNoOtherOutput();
    }

    @Test
    void anOverturnedDisputeStillAwaitingASlashResultOutlivesItsRetentionUntilTheResultIsInThenRetires() {
        overturn("job-16");
        slashed("job-16", nothingTaken(w2));
        KeyValueStore<String, JobRecord> jobStore = driver.getKeyValueStore(VerifierTopology.JOBS_STORE);
        // the deadline (60 s) plus the retention (7 days) passes: the job is kept, w1's slash result is still awaited
        driver.advanceWallClockTime(Duration.ofDays(7).plusMinutes(2));
        assertThat(jobStore.get("job-16")).isNotNull();
        assertNoOtherOutput();

        var taken = new io.agora.events.SlashTaken(w1.workerId(), 100L, 400L, 160L,
                List.of(new io.agora.events.SlashShare(w3.workerId(), 80L), new io.agora.events.SlashShare(w4.workerId(), 80L)), 80L);
        slashed("job-16", taken);
        JobEvent settled = single(events.readKeyValuesToList(), "job-16");
        assertThat(settled.getReason()).startsWith("settled: 2 slashes took 500 micro-credits");
        assertThat(settled.getSettlementReceipt().getSlashes()).containsExactly(taken, nothingTaken(w2));
        assertThat(Receipts.problems(settled.getSettlementReceipt(), market.workerId())).isEmpty();
        assertNoOtherOutput();

        // settled, its retention long over: the next sweep retires it, and a result for it is now a stray
        driver.advanceWallClockTime(Duration.ofMinutes(1));
        assertThat(jobStore.get("job-16")).isNull();
        slashed("job-16", taken);
        assertThat(harness.deadLetters()).singleElement().satisfies(l -> {
            assertThat(l.reason()).isEqualTo("no overturned dispute of job job-16 ordered a slash");
            assertThat(l.topic()).isEqualTo(Topics.SLASHES.name());
        });
        assertNoOtherOutput();
    }

    @Test
    void anOverturnedDisputeWhoseSlashResultsDoNotComeWithinASecondRetentionRetiresUnsettledAndALateOneIsDeadLettered() {
        overturn("job-17");
        slashed("job-17", nothingTaken(w2));
        KeyValueStore<String, JobRecord> jobStore = driver.getKeyValueStore(VerifierTopology.JOBS_STORE);
        driver.advanceWallClockTime(Duration.ofDays(14));
        assertThat(jobStore.get("job-17")).as("within the bound: deadline + 2 x retention").isNotNull();
        assertNoOtherOutput();

        driver.advanceWallClockTime(Duration.ofMinutes(2));
        assertThat(jobStore.get("job-17")).isNull();
        JobEvent unsettled = single(events.readKeyValuesToList(), "job-17");
        assertThat(unsettled.getType()).isEqualTo(JobEventType.DISPUTED);
        assertThat(unsettled.getReason()).isEqualTo("unsettled: 1 of 2 slash results came in before the job retired;"
                + " its settlement receipt is left to the operator, from the ledger's SLASH postings (agora settle-disputes)");
        assertThat(unsettled.getSettlementReceipt()).isNull();
        assertNoOtherOutput();

        slashed("job-17", nothingTaken(w1));
        assertThat(harness.deadLetters()).singleElement().extracting(TopologyHarness.DeadLetter::reason)
                .isEqualTo("no overturned dispute of job job-17 ordered a slash");
        assertNoOtherOutput();
    }

    @Test
    void disputeAfterTheWindowIsRefused() {
        JobTerms terms = terms("job-15", Strategy.FIRST, 1, 1, 2);
        assign(task("job-15", w1, 0, 0, terms));
        submit(result("job-15", w1, 0, 0, OUT_A, 1_000));
        verdicts.readKeyValuesToList();
        ledger.readKeyValuesToList();
        reputation.readKeyValuesToList();
        events.readKeyValuesToList();
        driver.advanceWallClockTime(Duration.ofHours(2));
        dispute("job-15");
        assertThat(events.readValuesToList()).singleElement()
                .satisfies(e -> assertThat(e.getReason()).isEqualTo("refused: dispute window closed; the dispute fee is refunded"));
        assertThat(ledger.readValuesToList()).extracting(LedgerEntry::getTransactionId).containsExactly("dispute-fee-refund:job-15");
        assertNoOtherOutput();
    }

    @Test
    void disputeBeyondMaxTotalResultsIsRefusedAndRequestsNothing() {
        JobTerms terms = terms("job-16", Strategy.K_OF_N, 2, 2, 3); // quorum 2 more would make 4 > 3
        assign(task("job-16", w1, 0, 0, terms), task("job-16", w2, 1, 0, terms));
        submit(result("job-16", w1, 0, 0, OUT_A, 1_000));
        submit(result("job-16", w2, 1, 0, OUT_A, 1_000));
        verdicts.readKeyValuesToList();
        ledger.readKeyValuesToList();
        reputation.readKeyValuesToList();
        events.readKeyValuesToList();
        dispute("job-16");
        assertThat(events.readValuesToList()).singleElement()
                .satisfies(e -> assertThat(e.getReason()).startsWith("refused: 2 dispute replicas would exceed maxTotalResults 3"));
        assertThat(ledger.readValuesToList()).extracting(LedgerEntry::getTransactionId).containsExactly("dispute-fee-refund:job-16");
        assertNoOtherOutput();
    }

    @Test
    void disputeWhoseReplicasTheMatcherCannotRunIsClosedByReplicaFailedOrAtTheDeadline() {
        JobTerms terms = agreeTwoOfTwo("job-17", 4);
        verdicts.readKeyValuesToList();
        ledger.readKeyValuesToList();
        reputation.readKeyValuesToList();
        events.readKeyValuesToList();
        dispute("job-17");
        commands.readKeyValuesToList();
        events.readKeyValuesToList();
        assertThat(reputation.readValuesToList()).as("the original workers' stakes are locked")
                .allSatisfy(r -> assertThat(r.getStake().getAction()).isEqualTo(io.agora.events.StakeAction.LOCK))
                .extracting(ReputationChanged::getWorkerId).containsExactlyInAnyOrder(w1.workerId(), w2.workerId());
        // the matcher answers one replica REPLICA_FAILED, the other never finishes
        assertThat(ledger.readValuesToList()).as("admission held the fee").isEmpty();
        replicaFailed("job-17", 2, "job not running in the matcher");
        assertNoOtherOutput();
        driver.advanceWallClockTime(Duration.ofSeconds(61)); // the job's deadline
        assertThat(events.readValuesToList()).singleElement()
                .satisfies(e -> assertThat(e.getReason()).isEqualTo("upheld"));
        assertThat(reputation.readValuesToList()).as("upheld: the stakes are released, no reputation moves")
                .allSatisfy(r -> {
                    assertThat(r.getDelta()).isZero();
                    assertThat(r.getStake().getAction()).isEqualTo(io.agora.events.StakeAction.RELEASE);
                })
                .extracting(ReputationChanged::getWorkerId).containsExactlyInAnyOrder(w1.workerId(), w2.workerId());
        List<KeyValue<String, LedgerEntry>> paid = ledger.readKeyValuesToList();
        assertThat(paid).extracting(kv -> kv.value.getTransactionId()).containsExactly("dispute-fee-paid:job-17");
        assertThat(balance(paid, Accounts.worker(w1.workerId())) + balance(paid, Accounts.worker(w2.workerId())))
                .as("no dispute replica voted: the original workers take the fee").isEqualTo(MarketRules.DISPUTE_FEE_MICROS);
        driver.advanceWallClockTime(Duration.ofSeconds(10));
        assertNoOtherOutput(); // the fee moves once
    }

    @Test
    void resultOfAReassignedAttemptCountsAndOnlyItsWorkerMayAnswerIt() {
        JobTerms terms = terms("job-18", Strategy.K_OF_N, 2, 2, 2);
        assign(task("job-18", w1, 0, 0, terms), task("job-18", w2, 1, 0, terms));
        assign(task("job-18", w3, 0, 1, terms)); // lease of attempt 0 expired, the matcher moved replica 0
        submit(result("job-18", w1, 0, 1, OUT_A, 1_000)); // w1 never held attempt 1
        assertDeadLetter("job-18", "not assigned to this worker");
        submit(result("job-18", w3, 0, 1, OUT_A, 1_000));
        submit(result("job-18", w2, 1, 0, OUT_A, 1_000));
        JobVerdict v = single(verdicts.readKeyValuesToList(), "job-18");
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(v.getAgreeing()).containsExactly(w3.workerId(), w2.workerId());
        assertThat(ledger.readValuesToList()).extracting(LedgerEntry::getTransactionId)
                .containsExactly("payout:job-18:" + w3.workerId(), "payout:job-18:" + w2.workerId(), "refund:job-18");
        reputation.readKeyValuesToList();
        events.readKeyValuesToList();
        assertNoOtherOutput();
    }

    @Test
    void replicaFailedThatOvertakesTheFirstTaskIsCountedWhenTheTaskArrives() {
        JobTerms terms = terms("job-19", Strategy.K_OF_N, 1, 1, 1);
        replicaFailed("job-19", 0, "lease expired after 1 attempts");
        assertNoOtherOutput();
        assign(task("job-19", w1, 0, 0, terms));
        JobVerdict v = single(verdicts.readKeyValuesToList(), "job-19");
        assertThat(v.getOutcome()).isEqualTo(Outcome.FAILED);
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros());
        assertThat(ledger.readValuesToList()).extracting(LedgerEntry::getTransactionId).containsExactly("refund:job-19");
        assertThat(eventTypes()).containsExactly(JobEventType.VERDICT, JobEventType.FAILED);
        assertNoOtherOutput(); // REPLICA_FAILED costs no reputation here: the matcher already took -20 for the lease
    }

    @Test
    void replicaFailedAskForAnExtraReplicaWithinTheBoundThenFailsTheJob() {
        JobTerms terms = terms("job-20", Strategy.K_OF_N, 2, 2, 3);
        assign(task("job-20", w1, 0, 0, terms), task("job-20", w2, 1, 0, terms));
        submit(result("job-20", w1, 0, 0, OUT_A, 1_000));
        replicaFailed("job-20", 1, "lease expired after 3 attempts");
        JobCommand req = single(commands.readKeyValuesToList(), "job-20");
        assertThat(req.getType()).isEqualTo(CommandType.REQUEST_REPLICAS);
        assertThat(req.getReplica()).isEqualTo(2);
        assertThat(req.getCount()).isEqualTo(1);
        assertThat(verdicts.isEmpty()).isTrue();
        replicaFailed("job-20", 2, "replica 2 could not be placed");
        JobVerdict v = single(verdicts.readKeyValuesToList(), "job-20");
        assertThat(v.getOutcome()).isEqualTo(Outcome.NO_CONSENSUS);
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros());
        assertThat(ledger.readValuesToList()).extracting(LedgerEntry::getTransactionId).containsExactly("refund:job-20");
        events.readKeyValuesToList();
        assertNoOtherOutput();
    }

    @Test
    void cancelAfterARememberedReplicaFailedIsStillApplied() {
        replicaFailed("job-21", 0, "lease expired after 1 attempts");
        cancel("job-21");
        assertNoOtherOutput();
        assign(task("job-21", w1, 0, 0, terms("job-21", Strategy.K_OF_N, 2, 2, 2)));
        assertThat(single(verdicts.readKeyValuesToList(), "job-21").getOutcome()).isEqualTo(Outcome.CANCELLED);
        assertThat(ledger.readValuesToList()).extracting(LedgerEntry::getTransactionId).containsExactly("refund:job-21");
        events.readKeyValuesToList();
        assertNoOtherOutput();
    }

    @Test
    void aTaskWrittenByAnyoneButTheMatcherGoesToTheDlqWithTheReasonAndNoJobOpens() {
        JobTerms terms = terms("job-22", Strategy.FIRST, 1, 1, 1);
        TaskAssigned forged = Assignments.sign(task("job-22", w1, 0, 0, terms), w1); // the worker's own key
        tasksIn.pipeInput(forged.getJobId(), forged, ts++);
        assertThat(harness.deadLetters()).singleElement().satisfies(l -> {
            assertThat(l.reason()).isEqualTo("bad matcher signature: the task is not one the matcher signed");
            assertThat(l.topic()).isEqualTo(Topics.ASSIGNMENTS.name());
        });
        submit(result("job-22", w1, 0, 0, OUT_A, 1_000));
        assertNoOtherOutput();
        assertThat(driver.<String, JobState>getKeyValueStore(VerifierTopology.JOBS_STORE).get("job-22")).isNull();
    }

    // ---- helpers -----------------------------------------------------------------------

    private void replicaFailed(String jobId, int replica, String reason) {
        commandsIn.pipeInput(jobId, JobCommand.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(jobId)
                .setClientId("client-1").setType(CommandType.REPLICA_FAILED).setReplica(replica).setReason(reason)
                .setTimestamp(T0).build(), ts++);
    }

    private JobTerms terms(String jobId, Strategy strategy, int n, int k, int maxTotal) {
        return JobTerms.newBuilder()
                .setClientId("client-1").setPool("public").setRedundancy(n).setQuorum(k).setStrategy(strategy)
                .setMaxTotalResults(maxTotal).setMaxPricePerCpuSecondMicros(MAX_PRICE)
                .setEscrowMicros(Pricing.maxCost(SPEC, MAX_PRICE, maxTotal))
                .setSubmittedAt(T0).setDeadline(T0.plusSeconds(60)).build();
    }

    private TaskAssigned task(String jobId, Identity w, int replica, int attempt, JobTerms terms) {
        return TaskAssigned.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setTaskId(jobId + "/" + replica + "/" + attempt).setJobId(jobId)
                .setWorkerId(w.workerId()).setReplica(replica).setAttempt(attempt).setSpec(SPEC).setTerms(terms)
                .setPricePerCpuSecondMicros(WORKER_PRICE).setLeaseDeadline(T0.plusSeconds(30)).setScore(0.9)
                .setExplain("test").setAssignedAt(ASSIGNED).build();
    }

    private TaskResult unsigned(String jobId, Identity w, int replica, int attempt, String stdout, long durationMs) {
        return SignedRecords.unsignedResult(jobId, w.workerId(), replica, attempt, ResultStatus.SUCCEEDED, stdout, durationMs,
                T0, 1);
    }

    private TaskResult result(String jobId, Identity w, int replica, int attempt, String stdout, long durationMs) {
        return SignedRecords.result(w, jobId, replica, attempt, ResultStatus.SUCCEEDED, stdout, durationMs, T0, 1);
    }

    private TaskResult failed(String jobId, Identity w, int replica, int attempt, ResultStatus status) {
        return SignedRecords.result(w, jobId, replica, attempt, status, "", 10_000, T0, 1);
    }

    /** The records written to each store's changelog so far, by store. */
    private Map<String, Long> changelogWrites() {
        String prefix = VerifierConfig.APP_ID + "-";
        Map<String, Long> writes = new java.util.TreeMap<>();
        for (String topic : driver.producedTopicNames()) {
            if (topic.startsWith(prefix) && topic.endsWith("-changelog")) {
                long n = driver.createOutputTopic(topic, new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                        new org.apache.kafka.common.serialization.ByteArrayDeserializer()).getQueueSize();
                writes.put(topic.substring(prefix.length(), topic.length() - "-changelog".length()), n);
            }
        }
        return writes;
    }

    private static String hash(String stdout) {
        return SignedRecords.hash(stdout);
    }

    /** A 2-of-3 job (maxTotalResults 5) assigned to w1, w2 and w3. */
    private JobTerms twoOfThree(String jobId) {
        JobTerms terms = terms(jobId, Strategy.K_OF_N, 3, 2, 5);
        assign(task(jobId, w1, 0, 0, terms), task(jobId, w2, 1, 0, terms), task(jobId, w3, 2, 0, terms));
        return terms;
    }

    /** A 2-of-2 job (w1, w2) whose two results agree on OUT_A: it completes. */
    private JobTerms agreeTwoOfTwo(String jobId, int maxTotal) {
        JobTerms terms = terms(jobId, Strategy.K_OF_N, 2, 2, maxTotal);
        assign(task(jobId, w1, 0, 0, terms), task(jobId, w2, 1, 0, terms));
        submit(result(jobId, w1, 0, 0, OUT_A, 1_000));
        submit(result(jobId, w2, 1, 0, OUT_A, 1_000));
        return terms;
    }

    /**
     * A 2-of-2 job (w1, w2, maxTotalResults 4) completed on OUT_A, disputed, and overturned by w3 and w4 on OUT_B: w1
     * and w2 are ordered slashed; every output so far is read.
     */
    private void overturn(String jobId) {
        JobTerms terms = agreeTwoOfTwo(jobId, 4);
        dispute(jobId);
        assign(task(jobId, w3, 2, 0, terms), task(jobId, w4, 3, 0, terms));
        submit(result(jobId, w3, 2, 0, OUT_B, 1_000));
        submit(result(jobId, w4, 3, 0, OUT_B, 1_000));
        assertThat(events.readValuesToList()).extracting(JobEvent::getReason).anyMatch(r -> r.startsWith("overturned"));
        verdicts.readRecordsToList();
        ledger.readRecordsToList();
        reputation.readRecordsToList();
        commands.readRecordsToList();
    }

    /** The matcher gate's result of the SLASH of {@code taken}'s worker for {@code jobId}. */
    private void slashed(String jobId, io.agora.events.SlashTaken taken) {
        harness.in(Topics.SLASHES).pipeInput(jobId, new io.agora.events.SlashResult(UUID.randomUUID().toString(), jobId,
                "client-1", taken, T0), ts++);
    }

    /** A SLASH that found nothing to take: the worker had bonded nothing and kept nothing of its pay. */
    private static io.agora.events.SlashTaken nothingTaken(Identity w) {
        return new io.agora.events.SlashTaken(w.workerId(), 0L, 0L, 0L, List.of(), 0L);
    }

    /** The tasks as the matcher sends them: signed with its key. */
    private void assign(TaskAssigned... ts) {
        for (TaskAssigned t : ts) {
            tasksIn.pipeInput(t.getJobId(), Assignments.sign(t, matcher), this.ts++);
        }
    }

    private void submit(TaskResult r) {
        resultsIn.pipeInput(r.getJobId(), r, ts++);
    }

    /** A DISPUTE as the matcher's admission hands it on, the default fee held. */
    private void dispute(String jobId) {
        commandsIn.pipeInput(jobId, JobCommand.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(jobId)
                .setClientId("client-1").setType(CommandType.DISPUTE).setFeeHeldMicros(MarketRules.DISPUTE_FEE_MICROS)
                .setTimestamp(T0).build(), ts);
    }

    private void cancel(String jobId) {
        commandsIn.pipeInput(jobId, JobCommand.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(jobId)
                .setClientId("client-1").setType(CommandType.CANCEL).setTimestamp(T0).build(), ts++);
    }

    private static <V> V single(List<KeyValue<String, V>> records, String key) {
        assertThat(records).hasSize(1);
        assertThat(records.get(0).key).isEqualTo(key);
        return records.get(0).value;
    }

    private List<JobEventType> eventTypes() {
        return events.readValuesToList().stream().map(JobEvent::getType).collect(Collectors.toList());
    }

    private Map<String, Integer> reputationByWorker() {
        return reputation.readKeyValuesToList().stream()
                .peek(kv -> assertThat(kv.key).isEqualTo(kv.value.getWorkerId()))
                .collect(Collectors.groupingBy(kv -> kv.key, Collectors.summingInt(kv -> kv.value.getDelta())));
    }

    private static long balance(List<KeyValue<String, LedgerEntry>> entries, String account) {
        return entries.stream().flatMap(kv -> kv.value.getPostings().stream())
                .filter(p -> p.getAccountId().equals(account)).mapToLong(Posting::getAmountMicros).sum();
    }

    private static void assertBalancedAndEscrowEmptied(String jobId, long escrow, List<KeyValue<String, LedgerEntry>> entries) {
        for (KeyValue<String, LedgerEntry> kv : entries) {
            assertThat(kv.value.getPostings().stream().mapToLong(Posting::getAmountMicros).sum())
                    .as("postings of %s", kv.value.getTransactionId()).isZero();
        }
        assertThat(escrow + balance(entries, Accounts.escrow(jobId))).as("escrow:%s after settlement", jobId).isZero();
    }

    private void assertDeadLetter(String key, String reason) {
        List<TopologyHarness.DeadLetter> letters = harness.deadLetters();
        assertThat(letters).hasSize(1);
        TopologyHarness.DeadLetter l = letters.get(0);
        assertThat(l.key()).isEqualTo(key);
        assertThat(l.reason()).isEqualTo(reason);
        assertThat(l.topic()).isEqualTo(Topics.RESULTS.name());
        assertThat(l.value(serdes, Topics.RESULTS).getJobId()).isEqualTo(key);
    }

    private void assertNoOtherOutput() {
        assertThat(verdicts.isEmpty()).as("verdicts").isTrue();
        assertThat(events.isEmpty()).as("events").isTrue();
        assertThat(ledger.isEmpty()).as("ledger").isTrue();
        assertThat(reputation.isEmpty()).as("reputation").isTrue();
        assertThat(commands.isEmpty()).as("commands").isTrue();
        assertThat(dlq.isEmpty()).as("dlq").isTrue();
    }
}
