package io.agora.matcher;

import io.agora.schemas.testing.SignedRecords;
import io.agora.market.Limits;
import io.agora.market.PohChallenge;
import io.agora.events.BenchmarkProof;
import io.agora.events.CommandType;
import io.agora.events.EntryKind;
import io.agora.events.Heartbeat;
import io.agora.events.JobCommand;
import io.agora.events.JobRequested;
import io.agora.events.LedgerEntry;
import io.agora.events.Posting;
import io.agora.events.ReputationChanged;
import io.agora.events.ResultStatus;
import io.agora.events.TaskResult;
import io.agora.events.WorkerRegistration;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class InputBoundsTest {
    static final long T0 = 1_700_000_000_000L;
    static final int PARTITIONS = 24;
    /** Longer than {@code DataOutputStream.writeUTF} can write (64 KiB). */
    static final String HUGE = "x".repeat(70 * 1024);

    static Heartbeat beat(List<Integer> partitions) {
        return SignedRecords.heartbeat("w-1", "public", 1, T0, 2, partitions, List.of("job-1/0/0"), 500);
    }

    static TaskResult result(String taskId, String jobId, int replica, int attempt) {
        return TaskResult.newBuilder().setEventId("e").setTaskId(taskId).setJobId(jobId).setWorkerId("w-1")
                .setPool("public").setReplica(replica).setAttempt(attempt).setStatus(ResultStatus.SUCCEEDED)
                .setExitCode(0).setOutputSha256("").setDurationMs(5).setStartedAt(Instant.ofEpochMilli(T0))
                .setFinishedAt(Instant.ofEpochMilli(T0)).setSeq(1).setSignature(ByteBuffer.allocate(0)).build();
    }

    /** The bounds of worker w-1's registration with {@code caps}. */
    static String capsBounds(io.agora.events.WorkerCapabilities.Builder caps) {
        return InputBounds.registration(SignedRecords.registration("w-1", caps.build(), 1, T0));
    }

    static JobCommand replicas(int replica, int count) {
        return JobCommand.newBuilder().setEventId("e").setJobId("job-1").setClientId("alice").setPool("public")
                .setType(CommandType.REQUEST_REPLICAS).setReplica(replica).setCount(count)
                .setExcludeWorkers(List.of()).setTimestamp(Instant.ofEpochMilli(T0)).build();
    }

    @Test
    void wellFormedRecordsPass() {
        assertThat(InputBounds.heartbeat(beat(List.of(0, 23)), PARTITIONS)).isNull();
        assertThat(InputBounds.registration(SignedRecords.registration("w-1", Fx.caps("public", 500).build(), 1, T0))).isNull();
        assertThat(InputBounds.registration(SignedRecords.deregistration("w-1", 2, T0))).isNull();
        assertThat(InputBounds.job(Fx.job("job-1", "alice", 3, T0))).isNull();
        assertThat(InputBounds.result(result("job-1/2/1", "job-1", 2, 1))).isNull();
        assertThat(InputBounds.result(result("a/b/0/0", "a/b", 0, 0))).as("job ids may contain '/'").isNull();
        assertThat(InputBounds.command(replicas(-1, 2))).isNull();
    }

    @Test
    void aHeartbeatOwningAPartitionTheTaskTopicDoesNotHaveIsRefused() {
        assertThat(InputBounds.heartbeat(beat(List.of(-1)), PARTITIONS))
                .isEqualTo("ownedPartitions must be partitions of the task topic, 0..23");
        assertThat(InputBounds.heartbeat(beat(List.of(3, 24)), PARTITIONS)).startsWith("ownedPartitions");
        assertThat(InputBounds.heartbeat(beat(Collections.nCopies(25, 1)), PARTITIONS))
                .isEqualTo("ownedPartitions must list at most 24 partitions");
    }

    @Test
    void aHeartbeatNamesEveryFieldOutOfBounds() {
        Heartbeat hb = beat(List.of(0));
        hb.setFreeSlots(-1);
        hb.setLoad(Double.NaN);
        hb.setPricePerCpuSecondMicros(-5);
        hb.setInFlightTaskIds(List.of(HUGE));
        assertThat(InputBounds.heartbeat(hb, PARTITIONS)).isEqualTo(
                "freeSlots must be between 0 and 1000000; "
                        + "load must be a finite number between 0.0 and 1000000.0; "
                        + "inFlightTaskIds items must be at most 224 characters; "
                        + "pricePerCpuSecondMicros must be between 0 and 1000000000000000");
        assertThat(InputBounds.heartbeat(beat(List.of(0)), PARTITIONS)).isNull();
        Heartbeat longId = beat(List.of(0));
        longId.setWorkerId(HUGE);
        assertThat(InputBounds.heartbeat(longId, PARTITIONS)).isEqualTo("workerId must be 1..200 characters");
    }

    @Test
    void idsOver64KibAreRefusedWhereverTheyCome() {
        assertThat(InputBounds.result(result(HUGE + "/0/0", HUGE, 0, 0)))
                .isEqualTo("jobId must be 1..200 characters; taskId must be at most 224 characters");
        assertThat(InputBounds.job(Fx.job(HUGE, "alice", 1, T0))).isEqualTo("jobId must be 1..200 visible ASCII characters without '/' or '|'");
        assertThat(InputBounds.registration(SignedRecords.registration(HUGE, Fx.caps("public", 1).build(), 1, T0)))
                .isEqualTo("workerId must be 1..200 characters");
        assertThat(capsBounds(Fx.caps("public", 1).setPullAllowlist(List.of("localhost:5000", HUGE))))
                .isEqualTo("capabilities.pullAllowlist items must be at most 200 characters");
        assertThat(capsBounds(Fx.caps("public", 1).setPullAllowlist(java.util.Collections.nCopies(257, "localhost:5000"))))
                .isEqualTo("capabilities.pullAllowlist must list at most 256 items");
        assertThat(capsBounds(Fx.caps("public", 1).setAllowedImages(List.of("agora/busybox:1",
                "x".repeat(io.agora.market.Limits.IMAGE_MAX))))).as("an image as long as a job's may be").isNull();
        assertThat(capsBounds(Fx.caps("public", 1).setAllowedImages(List.of("agora/busybox:1", HUGE))))
                .isEqualTo("capabilities.allowedImages items must be at most 255 characters");
        assertThat(capsBounds(Fx.caps("public", 1).setAllowedImages(java.util.Collections.nCopies(257, "agora/busybox:1"))))
                .isEqualTo("capabilities.allowedImages must list at most 256 items");
        ReputationChanged rc = ReputationChanged.newBuilder().setEventId("e").setWorkerId(HUGE).setDelta(5)
                .setReason("agreed").setTimestamp(Instant.ofEpochMilli(T0)).build();
        assertThat(InputBounds.reputation(rc)).isEqualTo("workerId must be 1..200 characters");
    }

    /** A registration of worker w-1 with a proof of hardware from {@code seed}. */
    static WorkerRegistration registrationWithProof(String seed) {
        return SignedRecords.registration("w-1", Fx.caps("public", 500)
                .setBenchmarkProof(new BenchmarkProof(seed, 1L, 1L, 1L, List.of(), "h")).build(), 1, T0);
    }

    @Test
    void aProofAnsweringOneChallengeForAHostsIdentitiesIsInBounds() {
        byte[] key = new byte[32];
        // four identities (Ed25519 keys, 43 characters each) already make a challenge longer than an id
        List<String> four = java.util.stream.IntStream.range(0, 4).mapToObj(i -> i + "x".repeat(42)).toList();
        String seed = PohChallenge.issue(key, four, T0);
        assertThat(seed.length()).isGreaterThan(InputBounds.MAX_ID);
        assertThat(InputBounds.registration(registrationWithProof(seed))).isNull();
        assertThat(InputBounds.registration(registrationWithProof("y".repeat(PohChallenge.MAX_SEED)))).isNull();
        assertThat(InputBounds.registration(registrationWithProof("y".repeat(PohChallenge.MAX_SEED + 1))))
                .isEqualTo("capabilities.benchmarkProof.seed must be at most " + PohChallenge.MAX_SEED + " characters");
    }

    @Test
    void aResultWhoseTaskIdDisagreesWithItsFieldsIsRefused() {
        assertThat(InputBounds.result(result("job-1/0/0", "job-1", 1, 0)))
                .isEqualTo("taskId must be <jobId>/<replica>/<attempt> of the result's own fields");
        assertThat(InputBounds.result(result("job-1/-1/0", "job-1", -1, 0))).startsWith("replica must be between 0");
    }

    @Test
    void countsPricesAndTimesThatWouldOverflowAreRefused() {
        assertThat(InputBounds.command(replicas(5, Integer.MAX_VALUE))).isEqualTo("count must be between 0 and 1000");
        assertThat(InputBounds.command(replicas(Integer.MAX_VALUE, 1))).isEqualTo("replica must be between -1 and 999");

        JobRequested job = Fx.job("job-1", "alice", 1, T0);
        job.setDeadlineMs(Long.MAX_VALUE);
        job.setQueueTimeoutMs(-1);
        job.setPriority(Integer.MIN_VALUE);
        job.getSpec().setTimeoutMs(Long.MAX_VALUE);
        job.getSpec().setCpus(Double.POSITIVE_INFINITY);
        job.getRequirements().setMaxPricePerCpuSecondMicros(Long.MAX_VALUE);
        assertThat(InputBounds.job(job).split("; ")).extracting(p -> p.substring(0, p.indexOf(' '))).containsExactly(
                "spec.timeoutMs", "spec.cpus", "requirements.maxPricePerCpuSecondMicros", "priority",
                "queueTimeoutMs", "deadlineMs");

        JobRequested replicas = Fx.job("job-2", "alice", 3, T0);
        replicas.setMaxTotalResults(2);
        assertThat(InputBounds.job(replicas)).isEqualTo("maxTotalResults must be between 3 and 1000");
        replicas.setRedundancy(Integer.MAX_VALUE);
        assertThat(InputBounds.job(replicas)).startsWith("redundancy must be between 1 and 1000");

        WorkerRegistration reg = SignedRecords.registration("w-1", Fx.caps("public", -1).setMaxConcurrent(-3).build(), 1, T0);
        assertThat(InputBounds.registration(reg)).isEqualTo(
                "capabilities.pricePerCpuSecondMicros must be between 0 and 1000000000000000; "
                        + "capabilities.maxConcurrent must be between 0 and 1000000");

        LedgerEntry deposit = LedgerEntry.newBuilder().setEventId("e").setTransactionId("deposit:alice:1")
                .setClientId("alice").setKind(EntryKind.DEPOSIT).setMemo("")
                .setPostings(List.of(new Posting("mint:deposits", -Long.MAX_VALUE), new Posting("client:alice", Long.MAX_VALUE)))
                .setTimestamp(Instant.ofEpochMilli(T0)).build();
        assertThat(InputBounds.ledger(deposit))
                .isEqualTo("postings.amountMicros must be between -1000000000000000 and 1000000000000000");
        deposit.setKind(EntryKind.PAYOUT);
        assertThat(InputBounds.ledger(deposit)).as("admission does not read payouts").isNull();
    }

    @Test
    void aJobIdTheVerifierWouldRefuseIsRefusedBeforeEscrowIsHeld() {
        // the verifier keeps ids of Limits' shape only; a job it refuses would hold its escrow for ever
        assertThat(InputBounds.job(Fx.job("a/b", "alice", 1, T0))).startsWith("jobId must be");
        assertThat(InputBounds.job(Fx.job("x".repeat(Limits.ID_MAX + 1), "alice", 1, T0))).startsWith("jobId must be");
        assertThat(InputBounds.job(Fx.job("x".repeat(Limits.ID_MAX), "alice", 1, T0))).isNull();
    }
}
