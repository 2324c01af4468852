package io.agora.matcher;

import io.agora.schemas.testing.SignedRecords;
import io.agora.events.EntryKind;
import io.agora.events.Heartbeat;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobRequested;
import io.agora.events.LedgerEntry;
import io.agora.events.ResultStatus;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.events.WorkerRegistration;
import io.agora.market.Postings;
import io.agora.schemas.AgoraConfig;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.Identity;
import io.agora.schemas.Signatures;
import io.agora.schemas.TopicSpec;
import io.agora.schemas.Topics;
import io.agora.schemas.testing.TopologyHarness;
import org.apache.avro.specific.SpecificRecord;
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
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Poison records fed to the real matcher topology, run with the properties {@link MatcherApp}
 * runs with ({@link MatcherApp#streamsProperties}) (so with its dead-letter handlers): each lands in {@code agora.dlq} with its reason,
 * and the market goes on with the next good record.
 */
class PoisonRecordsTest {
    static final long T0 = 1_700_000_000_000L;
    static final AgoraSerdes SERDES = AgoraSerdes.plain();

    @TempDir
    Path stateDir;

    TopologyHarness harness;
    TopologyTestDriver driver;
    long clock = T0;
    long seq = 1;
    TestInputTopic<String, JobRequested> requests;
    TestInputTopic<String, WorkerRegistration> registrations;
    TestInputTopic<String, Heartbeat> heartbeats;
    TestInputTopic<String, TaskResult> results;
    TestInputTopic<String, LedgerEntry> ledgerIn;
    TestOutputTopic<String, LedgerEntry> ledger;
    TestOutputTopic<String, JobEvent> events;
    TestOutputTopic<String, TaskAssigned> tasks;
    TestOutputTopic<byte[], byte[]> dlq;

    @BeforeEach
    void start() {
        var props = MatcherApp.streamsProperties(AgoraConfig.of(Map.of("agora.state.dir", stateDir.toString())));
        harness = new TopologyHarness(MatcherTopology.build(MatcherConfig.defaults().withRetryBackoffMs(0), SERDES,
                Identity.generate()), props, Instant.ofEpochMilli(T0), SERDES);
        driver = harness.driver();
        requests = in(Topics.JOB_REQUESTS);
        registrations = in(Topics.REGISTRATIONS);
        heartbeats = in(Topics.HEARTBEATS);
        results = in(Topics.RESULTS);
        ledgerIn = in(Topics.LEDGER);
        ledger = out(Topics.LEDGER);
        events = out(Topics.JOB_EVENTS);
        tasks = out(Topics.TASKS);
        dlq = harness.dlq();
    }

    @AfterEach
    void close() {
        harness.close();
    }

    <V extends SpecificRecord> TestInputTopic<String, V> in(TopicSpec<String, V> t) {
        return harness.in(t);
    }

    <V extends SpecificRecord> TestOutputTopic<String, V> out(TopicSpec<String, V> t) {
        return harness.out(t);
    }

    Identity worker(List<Integer> partitions) {
        Identity id = Identity.generate();
        registrations.pipeInput(id.workerId(), SignedRecords.registration(id, Fx.caps("public", 500).build(), seq++, clock), clock);
        heartbeats.pipeInput(id.workerId(), SignedRecords.heartbeat(id, "public", seq++, clock, 2, partitions, List.of()), clock);
        return id;
    }

    TestRecord<byte[], byte[]> deadLetter() {
        assertThat(dlq.isEmpty()).as("a dead letter").isFalse();
        TestRecord<byte[], byte[]> dead = dlq.readRecord();
        assertThat(dlq.isEmpty()).as("one dead letter").isTrue();
        return dead;
    }

    static String header(TestRecord<byte[], byte[]> r, String name) {
        return DeadLetters.header(r.headers(), name);
    }

    @Test
    void aDepositThatOverflowsTheBalanceIsDeadLetteredAndTheClientStillTrades() {
        worker(List.of(0));
        requests.pipeInput("ann", Fx.job("job-1", "ann", 1, clock), clock);
        ledger.readRecordsToList();
        events.readRecordsToList();
        tasks.readRecordsToList();

        ledgerIn.pipeInput("ann", Postings.deposit("ann", "d-1", Long.MAX_VALUE, null, clock), clock);

        TestRecord<byte[], byte[]> dead = deadLetter();
        // refused at admission's door (InputBounds), before the balance is touched
        assertThat(header(dead, DeadLetters.H_REASON)).startsWith("ledger entry out of bounds").contains("amountMicros");
        assertThat(header(dead, DeadLetters.H_TOPIC)).isEqualTo(Topics.LEDGER.name());
        assertThat(header(dead, DeadLetters.H_APP)).isEqualTo(MatcherApp.APP_ID);
        assertThat(SERDES.valueSerde(Topics.LEDGER).deserializer().deserialize(Topics.LEDGER.name(), dead.value())
                .getTransactionId()).isEqualTo("deposit:ann:d-1");

        requests.pipeInput("ann", Fx.job("job-2", "ann", 1, clock), clock);
        assertThat(ledger.readValuesToList()).extracting(LedgerEntry::getKind).containsExactly(EntryKind.ESCROW_HOLD);
        assertThat(events.readValuesToList()).extracting(JobEvent::getType)
                .containsExactly(JobEventType.ACCEPTED, JobEventType.ASSIGNED);
        assertThat(tasks.readValue().getJobId()).isEqualTo("job-2");
    }

    @Test
    void aResultWithATaskIdOver64KiBIsDeadLetteredAndTheNextResultCounts() {
        Identity w = worker(List.of(0));
        requests.pipeInput("bo", Fx.job("job-3", "bo", 1, clock), clock);
        TaskAssigned t = tasks.readValue();
        ledger.readRecordsToList();
        events.readRecordsToList();

        String hugeTaskId = "job-3/0/" + "9".repeat(70_000);
        results.pipeInput("job-3", result(w, hugeTaskId, ResultStatus.SUCCEEDED), clock);

        TestRecord<byte[], byte[]> dead = deadLetter();
        assertThat(header(dead, DeadLetters.H_TOPIC)).isEqualTo(Topics.RESULTS.name());
        // refused at the matcher's door (InputBounds), before anything is kept or repartitioned
        assertThat(header(dead, DeadLetters.H_REASON)).contains("taskId")
                .hasSizeLessThan(DeadLetters.MAX_REASON_CHARS + 20);

        // the matcher still frees the worker when the real result arrives: it takes a second job at once
        results.pipeInput("job-3", result(w, t.getTaskId(), ResultStatus.SUCCEEDED), clock);
        requests.pipeInput("bo", Fx.job("job-4", "bo", 1, clock), clock);
        requests.pipeInput("bo", Fx.job("job-5", "bo", 1, clock), clock);
        assertThat(tasks.readValuesToList()).extracting(TaskAssigned::getJobId).contains("job-4", "job-5");
        assertThat(dlq.isEmpty()).isTrue();
    }

    @Test
    void aHeartbeatListingPartitionMinusOneIsRefusedAtTheGateAndJobsGoToGoodWorkers() {
        Identity bad = worker(List.of(-1));

        TestRecord<byte[], byte[]> dead = deadLetter();
        assertThat(header(dead, DeadLetters.H_REASON))
                .startsWith("heartbeat out of bounds").contains("ownedPartitions");
        assertThat(header(dead, DeadLetters.H_TOPIC)).isEqualTo(Topics.HEARTBEATS.name());
        assertThat(new String(dead.key(), StandardCharsets.UTF_8)).isEqualTo(bad.workerId());

        Identity good = worker(List.of(1));
        requests.pipeInput("cy", Fx.job("job-6", "cy", 1, clock), clock);
        requests.pipeInput("cy", Fx.job("job-7", "cy", 1, clock), clock);
        assertThat(tasks.readValuesToList()).extracting(TaskAssigned::getWorkerId)
                .containsExactly(good.workerId(), good.workerId());
        assertThat(dlq.isEmpty()).isTrue();
    }

    TaskResult result(Identity w, String taskId, ResultStatus status) {
        TaskResult r = TaskResult.newBuilder().setEventId(UUID.randomUUID().toString())
                .setTaskId(taskId).setJobId(taskId.substring(0, taskId.indexOf('/'))).setWorkerId(w.workerId())
                .setPool("public").setReplica(0).setAttempt(0).setStatus(status).setExitCode(0)
                .setOutputSha256("00").setDurationMs(1000).setStartedAt(Instant.ofEpochMilli(clock))
                .setFinishedAt(Instant.ofEpochMilli(clock)).setSeq(seq++).setSignature(ByteBuffer.allocate(0)).build();
        return Signatures.sign(r, w.privateKey());
    }
}
