package io.agora.infra.market;

import io.agora.events.CommandType;
import io.agora.events.EntryKind;
import io.agora.events.Heartbeat;
import io.agora.events.JobCommand;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobRequested;
import io.agora.events.JobSpec;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.events.Posting;
import io.agora.events.Requirements;
import io.agora.events.ReputationChanged;
import io.agora.events.ResultStatus;
import io.agora.events.Strategy;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.events.WorkerCapabilities;
import io.agora.events.WorkerRegistration;
import io.agora.matcher.Admission;
import io.agora.matcher.MatcherApp;
import io.agora.matcher.MatcherConfig;
import io.agora.matcher.MatcherTopology;
import io.agora.verifier.VerifierConfig;
import io.agora.verifier.VerifierTopology;
import io.agora.market.Accounts;
import io.agora.market.MarketRules;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Identity;
import io.agora.schemas.TaskSeal;
import io.agora.market.Pricing;
import io.agora.schemas.Signatures;
import io.agora.schemas.Topics;
import io.agora.schemas.testing.SignedRecords;
import io.agora.schemas.testing.TopologyHarness;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The matcher's and the verifier's topologies side by side, each in its own TopologyTestDriver,
 * with the records one writes piped into the other for the topics of their contract:
 * {@code agora.jobs.tasks} (matcher to verifier), {@code agora.jobs.commands} (both ways),
 * {@code agora.ledger.entries} (verifier to matcher's admission) and
 * {@code agora.workers.reputation} (both ways). A driver already feeds a topology's own output
 * back into it when it also reads that topic, so only the other side's records are piped.
 * Workers are played by the test: it signs a result for each task it chooses to answer and
 * sends it to both apps.
 */
class MarketPairTest {
    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
    private static final long GRANT = 3_600_000;
    private static final JobSpec SPEC = JobSpec.newBuilder().setImage("alpine:3").setCommand(List.of("echo", "hi"))
            .setTimeoutMs(10_000).setCpus(1.0).setMemoryMb(128).build();

    @TempDir
    Path dir;

    private final AgoraSerdes serdes = AgoraSerdes.plain();
    private TopologyHarness matcherApp;
    private TopologyHarness verifierApp;
    private TopologyTestDriver matcher;
    private TopologyTestDriver verifier;
    private final Map<String, Identity> workers = new LinkedHashMap<>();
    private final Map<String, List<Integer>> partitions = new HashMap<>();
    private long seq = 1;
    private long clock = T0.toEpochMilli();

    private TestInputTopic<String, JobRequested> mRequests;
    private TestInputTopic<String, WorkerRegistration> mRegistrations;
    private TestInputTopic<String, Heartbeat> mHeartbeats;
    private TestInputTopic<String, TaskResult> mResults;
    private TestInputTopic<String, JobCommand> mCommands;
    private TestInputTopic<String, LedgerEntry> mLedgerIn;
    private TestInputTopic<String, ReputationChanged> mReputationIn;
    private TestOutputTopic<String, TaskAssigned> mTasks;
    private TestOutputTopic<String, TaskAssigned> mAssignments;
    private TestOutputTopic<String, JobCommand> mCommandsOut;
    private TestOutputTopic<String, LedgerEntry> mLedger;
    private TestOutputTopic<String, JobVerdict> mVerdicts;
    private TestOutputTopic<String, ReputationChanged> mReputation;
    private TestOutputTopic<String, JobEvent> mEvents;

    private TestInputTopic<String, TaskAssigned> vTasks;
    private TestInputTopic<String, TaskResult> vResults;
    private TestInputTopic<String, JobCommand> vCommands;
    private TestInputTopic<String, ReputationChanged> vReputationIn;
    private TestOutputTopic<String, JobCommand> vCommandsOut;
    private TestOutputTopic<String, LedgerEntry> vLedger;
    private TestOutputTopic<String, JobVerdict> vVerdicts;
    private TestOutputTopic<String, ReputationChanged> vReputation;
    private TestOutputTopic<String, JobEvent> vEvents;
    private TestOutputTopic<String, io.agora.events.SlashResult> mSlashes;
    private TestInputTopic<String, io.agora.events.SlashResult> vSlashes;
    /** The verifier's DISPUTED events, in order. */
    private final List<JobEvent> disputed = new ArrayList<>();
    private final Identity market = Identity.generate();

    /** Everything written to the shared topics, in order. */
    private final List<LedgerEntry> ledger = new ArrayList<>();
    private final List<JobVerdict> verdicts = new ArrayList<>();
    private final List<ReputationChanged> reputation = new ArrayList<>();
    /** Tasks the matcher wrote, not yet seen by the verifier (held back to play races). */
    private final List<TaskAssigned> tasksInFlight = new ArrayList<>();
    /** The verifier's copies of the tasks in flight, key jobId. */
    private final List<KeyValue<String, TaskAssigned>> assignmentsInFlight = new ArrayList<>();
    /** Tasks the verifier has seen, for the test's workers to answer. */
    private final List<TaskAssigned> delivered = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        Identity matcherKey = Identity.generate(); // the matcher signs every task, the verifier checks it
        matcherApp = new TopologyHarness(MatcherTopology.build(MatcherConfig.defaults().withRetryBackoffMs(0), serdes,
                matcherKey), MatcherApp.APP_ID, Files.createDirectories(dir.resolve("m")), T0, serdes);
        verifierApp = new TopologyHarness(VerifierTopology.build(VerifierConfig.defaults(), serdes, market,
                matcherKey.workerId()), VerifierConfig.APP_ID, Files.createDirectories(dir.resolve("v")), T0, serdes);
        matcher = matcherApp.driver();
        verifier = verifierApp.driver();
        mRequests = matcherApp.in(Topics.JOB_REQUESTS);
        mRegistrations = matcherApp.in(Topics.REGISTRATIONS);
        mHeartbeats = matcherApp.in(Topics.HEARTBEATS);
        mResults = matcherApp.in(Topics.RESULTS);
        mCommands = matcherApp.in(Topics.JOB_COMMANDS);
        mLedgerIn = matcherApp.in(Topics.LEDGER);
        mReputationIn = matcherApp.in(Topics.REPUTATION);
        mTasks = matcherApp.out(Topics.TASKS);
        mAssignments = matcherApp.out(Topics.ASSIGNMENTS);
        mCommandsOut = matcherApp.out(Topics.JOB_COMMANDS);
        mLedger = matcherApp.out(Topics.LEDGER);
        mVerdicts = matcherApp.out(Topics.VERDICTS);
        mReputation = matcherApp.out(Topics.REPUTATION);
        mEvents = matcherApp.out(Topics.JOB_EVENTS);
        vTasks = verifierApp.in(Topics.ASSIGNMENTS);
        vResults = verifierApp.in(Topics.RESULTS);
        vCommands = verifierApp.in(Topics.JOB_COMMANDS);
        vReputationIn = verifierApp.in(Topics.REPUTATION);
        vCommandsOut = verifierApp.out(Topics.JOB_COMMANDS);
        vLedger = verifierApp.out(Topics.LEDGER);
        vVerdicts = verifierApp.out(Topics.VERDICTS);
        vReputation = verifierApp.out(Topics.REPUTATION);
        vEvents = verifierApp.out(Topics.JOB_EVENTS);
        mSlashes = matcherApp.out(Topics.SLASHES);
        vSlashes = verifierApp.in(Topics.SLASHES);
    }

    @AfterEach
    void stop() {
        matcherApp.close();
        verifierApp.close();
    }

    // ---- scenarios -------------------------------------------------------------------------

    @Test
    void fullJobTwoOfThreeAgreeConservesCredits() {
        addWorkers(3);
        submit(job("job-1", "alice", 3, 2, 3));
        pump();
        assertThat(delivered).extracting(TaskAssigned::getTaskId)
                .containsExactlyInAnyOrder("job-1/0/0", "job-1/1/0", "job-1/2/0");
        long hold = heldFor("job-1");
        assertThat(delivered).extracting(t -> t.getTerms().getEscrowMicros()).containsOnly(hold);

        advance(6_000); // the workers run: no one is paid for longer than the market saw it hold its task
        answer("job-1/0/0", "A", 4_000);
        answer("job-1/1/0", "B", 3_000);
        pump();
        assertThat(verdicts).isEmpty();
        answer("job-1/2/0", "A", 6_000);
        pump();

        JobVerdict v = onlyVerdict("job-1");
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(v.getAgreeing()).hasSize(2);
        assertThat(v.getDissenting()).hasSize(1);
        long cost = v.getCostMicros();
        assertThat(cost).isEqualTo(Pricing.payout(500, 1000, 4_000, 10_000, 1.0) + Pricing.payout(500, 1000, 6_000, 10_000, 1.0));
        assertThat(v.getRefundMicros()).isEqualTo(hold - cost);
        assertThat(ledger).extracting(LedgerEntry::getKind).containsExactly(EntryKind.STARTER_GRANT,
                EntryKind.ESCROW_HOLD, EntryKind.PAYOUT, EntryKind.PAYOUT, EntryKind.REFUND);
        assertConserved();
        assertThat(balance(Accounts.client("alice"))).isEqualTo(GRANT - cost);
        assertThat(balance(Accounts.MINT_GRANTS)).isEqualTo(-GRANT);
        long paid = workers.keySet().stream().mapToLong(w -> balance(Accounts.worker(w))).sum();
        assertThat(paid).isEqualTo(cost);
        // admission read the refund back: the client may spend exactly what the ledger says it has
        Admission.Account acc = matcher.<String, Admission.Account>getKeyValueStore("matcher-admission-accounts").get("alice");
        assertThat(acc.availableMicros()).isEqualTo(GRANT - cost);
    }

    @Test
    void impossibleAgreementGetsAnExtraReplicaNumberedNextFromTheMatcher() {
        addWorkers(3);
        submit(job("job-2", "bea", 2, 2, 3));
        pump();
        answer("job-2/0/0", "A", 1_000);
        answer("job-2/1/0", "B", 1_000);
        pump();
        assertThat(delivered).extracting(TaskAssigned::getTaskId).contains("job-2/2/0");
        answer("job-2/2/0", "A", 1_000);
        pump();
        JobVerdict v = onlyVerdict("job-2");
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(v.getAgreeing()).hasSize(2);
        assertConserved();
        assertThat(balance(Accounts.client("bea"))).isEqualTo(GRANT - v.getCostMicros());
    }

    @Test
    void anOverturnedDisputeSlashesTheLyingWorkersRefundsTheClientAndTheLedgerBalances() {
        addWorkers(4);
        submit(job("job-earn", "erin", 4, 4, 4)); // every worker earns something it can bond
        pump();
        advance(3_000);
        for (int r = 0; r < 4; r++) {
            answer("job-earn/" + r + "/0", "A", 2_000);
        }
        pump();
        Map<String, Long> earned = new HashMap<>();
        workers.keySet().forEach(w -> earned.put(w, balance(Accounts.worker(w))));
        assertThat(earned.values()).allMatch(m -> m > 0);
        workers.keySet().forEach(w -> register(w, earned.get(w))); // bond all of it
        pump();
        workers.keySet().forEach(w -> assertThat(balance(Accounts.stake(w))).as("bonded").isEqualTo(earned.get(w)));
        verdicts.clear();

        submit(job("job-lie", "fay", 2, 2, 4));
        pump();
        List<String> liars = delivered.stream().filter(t -> t.getJobId().equals("job-lie")).map(TaskAssigned::getWorkerId).toList();
        advance(2_000);
        answer("job-lie/0/0", "WRONG", 1_000);
        answer("job-lie/1/0", "WRONG", 1_000);
        pump();
        JobVerdict v = onlyVerdict("job-lie");
        assertThat(v.getAgreeing()).containsExactlyInAnyOrderElementsOf(liars);
        long clientBefore = balance(Accounts.client("fay"));

        command("job-lie", "fay", CommandType.DISPUTE, true, true);
        pump();
        List<String> honest = delivered.stream().filter(t -> t.getJobId().equals("job-lie") && t.getReplica() >= 2)
                .map(TaskAssigned::getWorkerId).toList();
        assertThat(honest).hasSize(2).doesNotContainAnyElementsOf(liars);
        advance(2_000);
        answer("job-lie/2/0", "RIGHT", 1_000);
        answer("job-lie/3/0", "RIGHT", 1_000);
        pump();

        List<LedgerEntry> slashes = ledger.stream().filter(e -> e.getKind() == EntryKind.SLASH).toList();
        assertThat(slashes).extracting(LedgerEntry::getTransactionId)
                .containsExactlyInAnyOrder("slash:job-lie:" + liars.get(0), "slash:job-lie:" + liars.get(1));
        long slashed = 0;
        for (String liar : liars) {
            long stake = earned.get(liar);
            long half = stake / 2; // Stake.SLASH_BPS
            slashed += half;
            assertThat(balance(Accounts.stake(liar))).as("half of the liar's bond is gone").isEqualTo(stake - half);
            assertThat(balance(Accounts.worker(liar))).as("what job-lie paid it was reclaimed").isZero();
        }
        long clientShares = slashes.stream().flatMap(e -> e.getPostings().stream())
                .filter(p -> p.getAccountId().equals(Accounts.client("fay"))).mapToLong(Posting::getAmountMicros).sum();
        assertThat(clientShares).as("the client gets its payment back plus 40 % of what was slashed")
                .isEqualTo(v.getCostMicros() + liars.stream().mapToLong(w -> earned.get(w) / 2 * 4_000 / 10_000).sum());
        assertThat(balance(Accounts.client("fay"))).isEqualTo(clientBefore + clientShares);
        assertThat(balance(Accounts.client("fay"))).as("the lie cost the client nothing").isGreaterThanOrEqualTo(GRANT);
        for (String h : honest) {
            assertThat(balance(Accounts.worker(h))).as("the honest dispute worker's share").isPositive();
        }
        assertThat(balance(Accounts.MINT_SLASHED)).as("the rest is burned").isPositive();
        assertThat(clientShares - v.getCostMicros() + honest.stream().mapToLong(h -> balance(Accounts.worker(h))).sum()
                + balance(Accounts.MINT_SLASHED)).isEqualTo(slashed);
        assertThat(reputation).filteredOn(r -> liars.contains(r.getWorkerId()) && "job-lie".equals(r.getJobId()))
                .extracting(ReputationChanged::getDelta).contains(-10);
        // the gate's results reached the verifier: the settlement receipt says exactly what the SLASHes posted
        JobEvent settled = disputed.get(disputed.size() - 1);
        assertThat(settled.getReason()).startsWith("settled: 2 slashes");
        io.agora.events.SettlementReceipt receipt = settled.getSettlementReceipt();
        assertThat(io.agora.schemas.Receipts.problems(receipt, market.workerId())).isEmpty();
        assertThat(receipt.getSlashes()).extracting(io.agora.events.SlashTaken::getWorkerId)
                .containsExactlyInAnyOrderElementsOf(disputed.get(disputed.size() - 2).getDisputeReceipt().getSlashed());
        for (io.agora.events.SlashTaken t : receipt.getSlashes()) {
            LedgerEntry posted = slashes.stream().filter(e -> e.getTransactionId().equals("slash:job-lie:" + t.getWorkerId()))
                    .findFirst().orElseThrow();
            assertThat(io.agora.market.Postings.slash("job-lie", "fay", t, 0).getPostings()).as("the slash of " + t.getWorkerId())
                    .isEqualTo(posted.getPostings());
        }
        assertConserved();
        Admission.Account acc = matcher.<String, Admission.Account>getKeyValueStore("matcher-admission-accounts").get("fay");
        assertThat(acc.availableMicros()).as("admission credits the slash").isEqualTo(balance(Accounts.client("fay")));
    }

    @Test
    void replicaOutOfAttemptsEndsTheJobFailedWithAFullRefundAndOnePenalty() {
        addWorkers(1);
        JobRequested job = job("job-3", "cid", 1, 1, 1);
        job.setMaxAttempts(1);
        submit(job);
        pump();
        String holder = delivered.get(0).getWorkerId();
        for (int i = 0; i < 4; i++) { // heartbeats that do not list the task: the lease runs out
            advance(5_000);
            heartbeat(holder, List.of());
            pump();
        }
        JobVerdict v = onlyVerdict("job-3");
        assertThat(v.getOutcome()).isEqualTo(Outcome.FAILED);
        assertThat(v.getRefundMicros()).isEqualTo(heldFor("job-3"));
        assertThat(reputation).extracting(ReputationChanged::getReason).containsExactly("lease expired");
        assertThat(reputation).extracting(ReputationChanged::getDelta).containsExactly(-20);
        assertConserved();
        assertThat(balance(Accounts.client("cid"))).isEqualTo(GRANT);
    }

    @Test
    void disputeOfAJobWithRoomInMaxTotalResultsRunsOnFreshWorkersWhoTakeTheFeeWhenTheyConfirmIt() {
        addWorkers(4);
        submit(job("job-4", "dan", 2, 2, 4));
        pump();
        answer("job-4/0/0", "A", 1_000);
        answer("job-4/1/0", "A", 1_000);
        pump();
        JobVerdict v = onlyVerdict("job-4");
        int entries = ledger.size();
        command("job-4", "dan", CommandType.DISPUTE, true, true);
        pump();
        assertThat(delivered).extracting(TaskAssigned::getTaskId).contains("job-4/2/0", "job-4/3/0");
        List<String> confirming = delivered.stream().filter(t -> t.getJobId().equals("job-4") && t.getReplica() >= 2)
                .map(TaskAssigned::getWorkerId).toList();
        Map<String, Long> before = new HashMap<>();
        confirming.forEach(w -> before.put(w, balance(Accounts.worker(w))));
        answer("job-4/2/0", "A", 1_000);
        answer("job-4/3/0", "A", 1_000);
        pump();
        assertThat(ledger.subList(entries, ledger.size())).extracting(LedgerEntry::getTransactionId)
                .containsExactly("dispute-fee:job-4", "dispute-fee-paid:job-4");
        assertConserved();
        assertThat(balance(Accounts.client("dan"))).isEqualTo(GRANT - v.getCostMicros() - MarketRules.DISPUTE_FEE_MICROS);
        confirming.forEach(w -> assertThat(balance(Accounts.worker(w)) - before.get(w)).as("fee share of " + w)
                .isEqualTo(MarketRules.DISPUTE_FEE_MICROS / 2));
        Admission.Account acc = matcher.<String, Admission.Account>getKeyValueStore("matcher-admission-accounts").get("dan");
        assertThat(acc.availableMicros()).as("admission applied the fee").isEqualTo(balance(Accounts.client("dan")));
    }

    @Test
    void twoRacingDisputesWithMoneyForOneFeeOpenOneAndRefuseTheOtherWithTheReasonAndTheLedgerBalances() {
        addWorkers(4);
        submit(job("job-r1", "ray", 2, 2, 4));
        submit(job("job-r2", "ray", 2, 2, 4));
        pump();
        for (String t : List.of("job-r1/0/0", "job-r1/1/0", "job-r2/0/0", "job-r2/1/0")) {
            answer(t, "A", 1_000);
        }
        pump();
        assertThat(verdicts).extracting(JobVerdict::getOutcome).containsExactly(Outcome.COMPLETED, Outcome.COMPLETED);
        // a third job's escrow leaves the client between one fee and two
        long fee = MarketRules.DISPUTE_FEE_MICROS;
        long ceiling = (balance(Accounts.client("ray")) - fee * 3 / 2) / 10; // 10 s, one cpu unit, one replica
        JobRequested big = job("job-r3", "ray", 1, 1, 1);
        big.getRequirements().setMaxPricePerCpuSecondMicros(ceiling);
        submit(big);
        pump();
        long available = balance(Accounts.client("ray"));
        assertThat(available).isBetween(fee, 2 * fee - 1);
        int entries = ledger.size();

        command("job-r1", "ray", CommandType.DISPUTE, true, true); // ingest-api's two requests, at once
        command("job-r2", "ray", CommandType.DISPUTE, true, true);
        List<JobEvent> refused = mEvents.readValuesToList();
        pump();
        assertThat(refused).singleElement().satisfies(e -> {
            assertThat(e.getJobId()).isEqualTo("job-r2");
            assertThat(e.getType()).isEqualTo(JobEventType.DISPUTED);
            assertThat(e.getReason()).isEqualTo("refused: insufficient credits: available " + (available - fee)
                    + ", the dispute fee is " + fee);
        });
        assertThat(delivered).extracting(TaskAssigned::getTaskId).contains("job-r1/2/0", "job-r1/3/0")
                .noneMatch(t -> t.startsWith("job-r2/2"));
        assertThat(ledger.subList(entries, ledger.size())).extracting(LedgerEntry::getTransactionId)
                .containsExactly("dispute-fee:job-r1");
        assertThat(balance(Accounts.client("ray"))).isEqualTo(available - fee).isNotNegative();

        answer("job-r1/2/0", "A", 1_000);
        answer("job-r1/3/0", "A", 1_000);
        command("job-r3", "ray", CommandType.CANCEL, true, true);
        pump();
        assertThat(ledger.subList(entries, ledger.size())).extracting(LedgerEntry::getTransactionId)
                .contains("dispute-fee:job-r1", "dispute-fee-paid:job-r1").noneMatch(t -> t.contains("job-r2"));
        assertConserved();
        Admission.Account acc = matcher.<String, Admission.Account>getKeyValueStore("matcher-admission-accounts").get("ray");
        assertThat(acc.availableMicros()).as("admission's view is the ledger's").isEqualTo(balance(Accounts.client("ray")));
    }

    @Test
    void replicasThatAgreeOnATimeoutEndTheJobFailedWithoutExtraReplicasAndTheClientPaysTheirTime() {
        addWorkers(4);
        submit(job("job-t", "tia", 2, 2, 4));
        pump();
        advance(9_000); // both report the 10 s timeout; the market saw them hold their tasks 9 s
        fail("job-t/0/0", ResultStatus.TIMEOUT, 10_000);
        fail("job-t/1/0", ResultStatus.TIMEOUT, 10_000);
        pump();
        JobVerdict v = onlyVerdict("job-t");
        assertThat(v.getOutcome()).isEqualTo(Outcome.FAILED);
        assertThat(v.getReason()).startsWith("TIMEOUT after 10 s on 2 of 2 replicas");
        long cost = 2 * Pricing.payout(500, 1000, 9_000, 10_000, 1.0);
        assertThat(v.getCostMicros()).isEqualTo(cost);
        assertThat(v.getRefundMicros()).isEqualTo(heldFor("job-t") - cost);
        assertThat(delivered).as("no extra replicas").hasSize(2);
        assertConserved();
        assertThat(balance(Accounts.client("tia"))).isEqualTo(GRANT - cost);
        Admission.Account acc = matcher.<String, Admission.Account>getKeyValueStore("matcher-admission-accounts").get("tia");
        assertThat(acc.availableMicros()).isEqualTo(GRANT - cost);
    }

    // ---- CANCEL: exactly one refund whatever the order ----------------------------------------

    @Test
    void cancelWhileQueuedMatcherFirst() {
        submit(job("job-c1", "eve", 2, 2, 2)); // no workers: queued
        pump();
        command("job-c1", "eve", CommandType.CANCEL, true, false);
        pump();
        command("job-c1", "eve", CommandType.CANCEL, false, true);
        pump();
        addWorkers(2);
        advance(2_000);
        pump();
        assertOneCancelRefund("job-c1", "eve");
        assertThat(delivered).isEmpty();
    }

    @Test
    void cancelWhileQueuedVerifierFirst() {
        submit(job("job-c2", "fin", 2, 2, 2));
        pump();
        command("job-c2", "fin", CommandType.CANCEL, false, true); // remembered for an unseen job
        pump();
        command("job-c2", "fin", CommandType.CANCEL, true, false);
        pump();
        addWorkers(2);
        advance(2_000);
        pump();
        assertOneCancelRefund("job-c2", "fin");
        assertThat(delivered).isEmpty();
    }

    @Test
    void cancelAfterAssignmentMatcherFirst() {
        addWorkers(2);
        submit(job("job-c3", "gil", 2, 2, 2));
        pump();
        command("job-c3", "gil", CommandType.CANCEL, true, false); // matcher stops placing, owns no money
        pump();
        assertThat(verdicts).isEmpty();
        command("job-c3", "gil", CommandType.CANCEL, false, true);
        pump();
        answer("job-c3/0/0", "A", 1_000); // results after the cancel are not paid
        pump();
        assertOneCancelRefund("job-c3", "gil");
    }

    @Test
    void cancelAfterAssignmentVerifierFirst() {
        addWorkers(2);
        submit(job("job-c4", "hal", 2, 2, 2));
        pump();
        command("job-c4", "hal", CommandType.CANCEL, false, true);
        pump();
        command("job-c4", "hal", CommandType.CANCEL, true, false);
        pump();
        assertOneCancelRefund("job-c4", "hal");
    }

    @Test
    void cancelReachesTheVerifierBeforeTheFirstTaskThatTheMatcherAlreadySent() {
        addWorkers(2);
        submit(job("job-c5", "ivy", 2, 2, 2));
        pumpExceptTasks(); // the matcher assigned; its tasks are still in the repartition topic
        assertThat(tasksInFlight).hasSize(2);
        command("job-c5", "ivy", CommandType.CANCEL, false, true); // verifier: unseen job, remembered
        pumpExceptTasks();
        assertThat(verdicts).isEmpty();
        pump(); // first task arrives: the verifier applies the cancel
        command("job-c5", "ivy", CommandType.CANCEL, true, false); // matcher: running, only stops placing
        pump();
        assertOneCancelRefund("job-c5", "ivy");
    }

    @Test
    void cancelBeforeTheJobIsAdmitted() {
        command("job-c6", "jon", CommandType.CANCEL, true, true);
        pump();
        addWorkers(2);
        submit(job("job-c6", "jon", 2, 2, 2));
        pump();
        assertOneCancelRefund("job-c6", "jon");
        assertThat(delivered).isEmpty();
    }

    // ---- harness ---------------------------------------------------------------------------

    private void pump() {
        pump(true);
    }

    private void pumpExceptTasks() {
        pump(false);
    }

    /** Moves records between the two apps until neither writes anything more. */
    private void pump(boolean deliverTasks) {
        for (int round = 0; round < 100; round++) {
            boolean moved = false;
            for (KeyValue<String, TaskAssigned> kv : mTasks.readKeyValuesToList()) {
                tasksInFlight.add(kv.value);
            }
            assignmentsInFlight.addAll(mAssignments.readKeyValuesToList());
            if (deliverTasks && !tasksInFlight.isEmpty()) {
                assertThat(assignmentsInFlight).extracting(kv -> kv.value).containsExactlyElementsOf(tasksInFlight);
                for (KeyValue<String, TaskAssigned> kv : assignmentsInFlight) {
                    vTasks.pipeInput(kv.key, kv.value, clock);
                }
                delivered.addAll(tasksInFlight);
                tasksInFlight.clear();
                assignmentsInFlight.clear();
                moved = true;
            }
            for (KeyValue<String, JobCommand> kv : mCommandsOut.readKeyValuesToList()) {
                vCommands.pipeInput(kv.key, kv.value, clock);
                moved = true;
            }
            for (KeyValue<String, JobCommand> kv : vCommandsOut.readKeyValuesToList()) {
                mCommands.pipeInput(kv.key, kv.value, clock);
                moved = true;
            }
            ledger.addAll(mLedger.readValuesToList()); // the matcher already read its own entries back
            for (KeyValue<String, LedgerEntry> kv : vLedger.readKeyValuesToList()) {
                ledger.add(kv.value);
                mLedgerIn.pipeInput(kv.key, kv.value, clock);
                moved = true;
            }
            for (KeyValue<String, ReputationChanged> kv : mReputation.readKeyValuesToList()) {
                reputation.add(kv.value);
                vReputationIn.pipeInput(kv.key, kv.value, clock);
                moved = true;
            }
            for (KeyValue<String, ReputationChanged> kv : vReputation.readKeyValuesToList()) {
                reputation.add(kv.value);
                mReputationIn.pipeInput(kv.key, kv.value, clock);
                moved = true;
            }
            verdicts.addAll(mVerdicts.readValuesToList());
            verdicts.addAll(vVerdicts.readValuesToList());
            for (KeyValue<String, io.agora.events.SlashResult> kv : mSlashes.readKeyValuesToList()) {
                vSlashes.pipeInput(kv.key, kv.value, clock);
                moved = true;
            }
            mEvents.readValuesToList();
            vEvents.readValuesToList().stream().filter(e -> e.getType() == JobEventType.DISPUTED).forEach(disputed::add);
            if (!moved) {
                return;
            }
        }
        throw new AssertionError("the two apps keep talking to each other");
    }

    private void advance(long ms) {
        clock += ms;
        matcher.advanceWallClockTime(Duration.ofMillis(ms));
        verifier.advanceWallClockTime(Duration.ofMillis(ms));
    }

    private void addWorkers(int n) {
        for (int i = 0; i < n; i++) {
            Identity id = Identity.generate();
            workers.put(id.workerId(), id);
            partitions.put(id.workerId(), List.of(workers.size() - 1));
            register(id.workerId(), 0);
            heartbeat(id.workerId(), List.of());
        }
        pump();
    }

    /** A signed registration to the public pool asking the market to keep {@code stakeMicros} bonded. */
    private void register(String workerId, long stakeMicros) {
        Identity id = workers.get(workerId);
        WorkerCapabilities caps = WorkerCapabilities.newBuilder().setArch("x86_64").setCpuCores(4).setCpuThreads(8)
                .setSealKey(TaskSeal.Keys.generate().publicKey())
                .setMemoryMb(8192).setPricePerCpuSecondMicros(500).setMaxConcurrent(2).setPool("public")
                .setRegion("eu").setTags(List.of()).setCapabilities(List.of()).setGpus(List.of())
                .setAccelerators(List.of()).build();
        WorkerRegistration reg = SignedRecords.registration(workerId, caps, seq++, clock);
        reg.setStakeMicros(stakeMicros);
        mRegistrations.pipeInput(workerId, Signatures.sign(reg, id.privateKey()), clock);
    }

    private void heartbeat(String workerId, List<String> inFlight) {
        mHeartbeats.pipeInput(workerId, SignedRecords.heartbeat(workers.get(workerId), "public", seq++, clock, 2,
                partitions.get(workerId), inFlight), clock);
    }

    private JobRequested job(String jobId, String client, int n, int k, int maxTotal) {
        return JobRequested.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(jobId).setClientId(client)
                .setSpec(SPEC).setRequirements(Requirements.newBuilder().setMaxPricePerCpuSecondMicros(1000).build())
                .setRedundancy(n).setQuorum(k).setStrategy(Strategy.K_OF_N).setMaxTotalResults(maxTotal)
                .setSubmittedAt(Instant.ofEpochMilli(clock)).build();
    }

    private void submit(JobRequested job) {
        mRequests.pipeInput(job.getClientId(), job, clock);
    }

    private void command(String jobId, String client, CommandType type, boolean toMatcher, boolean toVerifier) {
        JobCommand c = JobCommand.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(jobId)
                .setClientId(client).setPool("public").setType(type).setTimestamp(Instant.ofEpochMilli(clock)).build();
        if (toMatcher) {
            mCommands.pipeInput(jobId, c, clock);
        }
        if (toVerifier) {
            vCommands.pipeInput(jobId, c, clock);
        }
    }

    /** The worker the task was delivered to answers it, signed, to both apps. */
    private void answer(String taskId, String stdout, long durationMs) {
        answer(taskId, ResultStatus.SUCCEEDED, stdout, durationMs);
    }

    /** A failed run (TIMEOUT, OUT_OF_MEMORY, SANDBOX_ERROR, ...): no output, no hash. */
    private void fail(String taskId, ResultStatus status, long durationMs) {
        answer(taskId, status, null, durationMs);
    }

    private void answer(String taskId, ResultStatus status, String stdout, long durationMs) {
        TaskAssigned t = delivered.stream().filter(x -> x.getTaskId().equals(taskId)).reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no task " + taskId + " delivered; have " + delivered));
        Identity w = workers.get(t.getWorkerId());
        TaskResult r = SignedRecords.unsignedResult(t.getJobId(), w.workerId(), t.getReplica(), t.getAttempt(), status,
                stdout, durationMs, Instant.ofEpochMilli(clock), seq++);
        r.setPool(t.getTerms().getPool());
        r = Signatures.sign(r, w.privateKey());
        mResults.pipeInput(t.getJobId(), r, clock);
        vResults.pipeInput(t.getJobId(), r, clock);
    }

    private long heldFor(String jobId) {
        return ledger.stream().filter(e -> e.getKind() == EntryKind.ESCROW_HOLD && jobId.equals(e.getJobId()))
                .flatMap(e -> e.getPostings().stream()).filter(p -> p.getAccountId().equals(Accounts.escrow(jobId)))
                .mapToLong(Posting::getAmountMicros).sum();
    }

    private long balance(String account) {
        return ledger.stream().flatMap(e -> e.getPostings().stream()).filter(p -> p.getAccountId().equals(account))
                .mapToLong(Posting::getAmountMicros).sum();
    }

    private JobVerdict onlyVerdict(String jobId) {
        assertThat(verdicts).extracting(JobVerdict::getJobId).containsExactly(jobId);
        return verdicts.get(0);
    }

    /** Every transaction balanced and unique, every escrow emptied, payouts + refund = hold, no negative account. */
    private void assertConserved() {
        Map<String, Long> byAccount = new HashMap<>();
        List<String> txIds = new ArrayList<>();
        for (LedgerEntry e : ledger) {
            txIds.add(e.getTransactionId());
            assertThat(e.getPostings().stream().mapToLong(Posting::getAmountMicros).sum())
                    .as("postings of %s", e.getTransactionId()).isZero();
            e.getPostings().forEach(p -> byAccount.merge(p.getAccountId(), p.getAmountMicros(), Long::sum));
        }
        assertThat(txIds).as("transaction ids").doesNotHaveDuplicates();
        byAccount.forEach((account, sum) -> {
            if (account.startsWith("escrow:")) {
                assertThat(sum).as(account).isZero();
            } else if (!account.startsWith("mint:")) {
                assertThat(sum).as(account).isNotNegative();
            }
        });
        for (LedgerEntry hold : ledger) {
            if (hold.getKind() != EntryKind.ESCROW_HOLD) {
                continue;
            }
            String jobId = hold.getJobId();
            long out = ledger.stream().filter(e -> jobId.equals(e.getJobId())
                            && (e.getKind() == EntryKind.PAYOUT || e.getKind() == EntryKind.REFUND))
                    .flatMap(e -> e.getPostings().stream()).filter(p -> p.getAccountId().equals(Accounts.escrow(jobId)))
                    .mapToLong(p -> -p.getAmountMicros()).sum();
            assertThat(out).as("payouts + refund of %s", jobId).isEqualTo(heldFor(jobId));
        }
    }

    private void assertOneCancelRefund(String jobId, String client) {
        List<LedgerEntry> refunds = ledger.stream().filter(e -> e.getKind() == EntryKind.REFUND).toList();
        assertThat(refunds).as("refunds").extracting(LedgerEntry::getTransactionId).containsExactly("refund:" + jobId);
        assertThat(ledger.stream().filter(e -> e.getKind() == EntryKind.PAYOUT)).as("payouts").isEmpty();
        assertThat(verdicts).extracting(JobVerdict::getOutcome).containsExactly(Outcome.CANCELLED);
        assertThat(verdicts.get(0).getRefundMicros()).isEqualTo(heldFor(jobId));
        assertConserved();
        assertThat(balance(Accounts.client(client))).isEqualTo(GRANT);
        Admission.Account acc = matcher.<String, Admission.Account>getKeyValueStore("matcher-admission-accounts").get(client);
        assertThat(acc.availableMicros()).isEqualTo(GRANT);
    }
}
