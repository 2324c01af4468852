package io.agora.verifier;

import io.agora.events.JobSpec;
import io.agora.events.JobTerms;
import io.agora.events.JobVerdict;
import io.agora.events.Outcome;
import io.agora.events.ResultStatus;
import io.agora.events.Strategy;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.market.Pricing;
import io.agora.schemas.AgoraConfig;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.Assignments;
import io.agora.schemas.Identity;
import io.agora.schemas.OutputHash;
import io.agora.schemas.Signatures;
import io.agora.schemas.Topics;
import io.agora.schemas.testing.TopologyHarness;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Poison records fed to the real verifier topology, run with the properties {@link VerifierApp}
 * runs with ({@link VerifierApp#streamsProperties}) (so with its dead-letter handlers): each lands in {@code agora.dlq} with its reason,
 * and the next good job is still verified and settled.
 */
class PoisonRecordsTest {
    static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
    static final long MAX_PRICE = 200;
    static final JobSpec SPEC = JobSpec.newBuilder()
            .setImage("alpine:3").setCommand(List.of("echo", "hi")).setTimeoutMs(10_000).setCpus(1.0).build();

    @TempDir
    Path stateDir;

    final AgoraSerdes serdes = AgoraSerdes.plain();
    static final Identity MATCHER = Identity.generate();
    final Identity w1 = Identity.generate();
    final Identity w2 = Identity.generate();
    TopologyHarness harness;
    TopologyTestDriver driver;
    TestInputTopic<String, TaskAssigned> tasksIn;
    TestInputTopic<String, TaskResult> resultsIn;
    TestOutputTopic<String, JobVerdict> verdicts;
    TestOutputTopic<byte[], byte[]> dlq;
    long ts = T0.toEpochMilli();

    @BeforeEach
    void setUp() {
        var props = VerifierApp.streamsProperties(AgoraConfig.of(Map.of("agora.state.dir", stateDir.toString())));
        harness = new TopologyHarness(VerifierTopology.build(VerifierConfig.defaults(), serdes, Identity.generate(),
                MATCHER.workerId()), props, T0, serdes);
        driver = harness.driver();
        tasksIn = harness.in(Topics.ASSIGNMENTS);
        resultsIn = harness.in(Topics.RESULTS);
        verdicts = harness.out(Topics.VERDICTS);
        dlq = harness.dlq();
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    @Test
    void aJobIdOver64KiBIsRefusedAtTheDoorAndTheNextJobIsSettled() {
        String huge = "job-" + "9".repeat(70_000);
        JobTerms terms = terms(SPEC, 1);
        tasksIn.pipeInput(huge, task(huge, w1, 0, "0", SPEC, terms), ts++);
        resultsIn.pipeInput(huge, result(huge, w1, 0, "0", 1_000), ts++);

        String reason = "out of bounds: jobId is not 1 to 200 visible ASCII characters without '/' or '|' (70004 characters)";
        List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
        assertThat(dead).hasSize(2);
        assertThat(dead).extracting(d -> header(d, DeadLetters.H_REASON)).containsOnly(reason);
        assertThat(dead).extracting(d -> header(d, DeadLetters.H_TOPIC)).containsExactly(Topics.ASSIGNMENTS.name(), Topics.RESULTS.name());
        assertThat(header(dead.get(0), DeadLetters.H_APP)).isEqualTo(VerifierConfig.APP_ID);
        assertThat(new String(dead.get(0).key(), StandardCharsets.UTF_8)).isEqualTo(w1.workerId());

        // nothing about it is kept, so nothing is stuck (the matcher's admission must not admit such an id)
        for (int i = 0; i < 3; i++) {
            driver.advanceWallClockTime(Duration.ofSeconds(30));
        }
        assertThat(verdicts.isEmpty()).isTrue();
        assertThat(dlq.isEmpty()).isTrue();

        assertSettles("job-ok", SPEC);
    }

    @Test
    void aPayoutWorthMoreThanALongIsCappedAtTheReplicaShareAndTheJobSettles() {
        // paid time is capped by the hour the market saw the task held, so the size is in the cpus
        JobSpec endless = JobSpec.newBuilder(SPEC).setTimeoutMs(Long.MAX_VALUE / 4).setCpus(1e12).build();
        JobTerms terms = terms(endless, 2);
        tasksIn.pipeInput("job-long", task("job-long", w1, 0, "0", endless, terms), ts++);
        tasksIn.pipeInput("job-long", task("job-long", w2, 1, "0", endless, terms), ts++);
        resultsIn.pipeInput("job-long", result("job-long", w1, 0, "0", Long.MAX_VALUE / 8), ts++);
        resultsIn.pipeInput("job-long", result("job-long", w2, 1, "0", Long.MAX_VALUE / 8), ts++);

        List<JobVerdict> v = verdicts.readValuesToList();
        assertThat(v).extracting(JobVerdict::getJobId).containsExactly("job-long");
        assertThat(v.get(0).getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(v.get(0).getCostMicros()).isEqualTo(terms.getEscrowMicros());
        assertThat(dlq.isEmpty()).isTrue();

        assertSettles("job-ok", SPEC);
    }

    void assertSettles(String jobId, JobSpec spec) {
        JobTerms terms = terms(spec, 2);
        tasksIn.pipeInput(jobId, task(jobId, w1, 0, "0", spec, terms), ts++);
        tasksIn.pipeInput(jobId, task(jobId, w2, 1, "0", spec, terms), ts++);
        resultsIn.pipeInput(jobId, result(jobId, w1, 0, "0", 1_000), ts++);
        resultsIn.pipeInput(jobId, result(jobId, w2, 1, "0", 1_000), ts++);
        List<JobVerdict> v = verdicts.readValuesToList();
        assertThat(v).extracting(JobVerdict::getJobId).containsExactly(jobId);
        assertThat(v.get(0).getOutcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(dlq.isEmpty()).isTrue();
    }

    static String header(TestRecord<byte[], byte[]> r, String name) {
        return DeadLetters.header(r.headers(), name);
    }

    JobTerms terms(JobSpec spec, int n) {
        return JobTerms.newBuilder()
                .setClientId("client-1").setPool("public").setRedundancy(n).setQuorum(n).setStrategy(Strategy.K_OF_N)
                .setMaxTotalResults(n).setMaxPricePerCpuSecondMicros(MAX_PRICE)
                .setEscrowMicros(Pricing.replicaShare(spec, MAX_PRICE) == Long.MAX_VALUE ? Long.MAX_VALUE / 2
                        : Pricing.maxCost(spec, MAX_PRICE, n))
                .setSubmittedAt(T0).setDeadline(T0.plusSeconds(60)).build();
    }

    TaskAssigned task(String jobId, Identity w, int replica, String attempt, JobSpec spec, JobTerms terms) {
        return Assignments.sign(TaskAssigned.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setTaskId(jobId + "/" + replica + "/" + attempt).setJobId(jobId)
                .setWorkerId(w.workerId()).setReplica(replica).setAttempt(0).setSpec(spec).setTerms(terms)
                .setPricePerCpuSecondMicros(100).setLeaseDeadline(T0.plusSeconds(30)).setScore(0.9)
                .setExplain("test").setAssignedAt(T0.minusSeconds(3_600)).build(), MATCHER);
    }

    TaskResult result(String jobId, Identity w, int replica, String attempt, long durationMs) {
        TaskResult r = TaskResult.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setTaskId(jobId + "/" + replica + "/" + attempt).setJobId(jobId)
                .setWorkerId(w.workerId()).setReplica(replica).setAttempt(0).setStatus(ResultStatus.SUCCEEDED)
                .setExitCode(0).setOutputSha256(OutputHash.of(0, "A".getBytes(StandardCharsets.UTF_8), Map.of()))
                .setStdout("A").setDurationMs(durationMs)
                .setStartedAt(T0).setFinishedAt(T0.plusMillis(1000)).setSeq(1).setSignature(ByteBuffer.allocate(0))
                .build();
        return Signatures.sign(r, w.privateKey());
    }
}
