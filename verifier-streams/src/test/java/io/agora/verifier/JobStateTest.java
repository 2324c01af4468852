package io.agora.verifier;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.AgoraSerdes;
import io.agora.events.JobSpec;
import io.agora.events.JobTerms;
import io.agora.events.Outcome;
import io.agora.events.Strategy;
import io.agora.events.TaskAssigned;
import io.agora.events.state.VerifierJob;
import io.agora.market.MarketRules;
import io.agora.schemas.SchemaHistory;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JobStateTest {

    /** A decided job with every field set, deterministic (legacy-state.txt holds what an earlier build wrote for it). */
    static JobState state() {
        Instant t = Instant.parse("2030-01-01T00:00:00Z");
        JobState s = new JobState();
        s.first = TaskAssigned.newBuilder().setEventId("e").setTaskId("j/0/0").setJobId("j").setWorkerId("w")
                .setReplica(0).setAttempt(0)
                .setSpec(JobSpec.newBuilder().setImage("i").setCommand(List.of("c")).setTimeoutMs(1000).build())
                .setTerms(JobTerms.newBuilder().setClientId("c").setPool("p").setRedundancy(3).setQuorum(2)
                        .setStrategy(Strategy.K_OF_N).setMaxTotalResults(5).setMaxPricePerCpuSecondMicros(7)
                        .setEscrowMicros(35).setSubmittedAt(t).setDeadline(t).build())
                .setPricePerCpuSecondMicros(5).setLeaseDeadline(t).setScore(1).setExplain("x").setAssignedAt(t).build();
        s.cancelSeenAt = 3;
        s.settled = true;
        s.outcome = Outcome.COMPLETED;
        s.consensusHash = "abc";
        s.decidedAt = 42;
        s.counted.addAll(List.of("j/0/0", "j/1/0"));
        s.receivedAt.put("j/0/0", 1_000L);
        s.receivedAt.put("j/1/0", 1_500L);
        s.failedReplicas.add(2);
        s.extraRequested = 1;
        s.agreeing.add("w");
        s.dissenting.add("v");
        s.disputeFrom = 4;
        s.disputeCount = 2;
        s.disputeResolved = true;
        s.disputeFeeMicros = MarketRules.DISPUTE_FEE_MICROS; // what the earlier builds held
        return s;
    }

    /** A cancel seen before the job's first task. */
    static JobState cancelPending() {
        JobState s = new JobState();
        s.cancelRequested = true;
        s.cancelSeenAt = 9;
        return s;
    }

    @Test
    void survivesTheStore() {
        JobState s = state();

        JobState back = JobState.serde().deserializer().deserialize("t", JobState.serde().serializer().serialize("t", s));
        assertThat(back).usingRecursiveComparison().isEqualTo(s);
        assertThat(back.first).isEqualTo(s.first);
        assertThat(back.counted).containsExactly("j/0/0", "j/1/0");
        assertThat(back.slots()).isEqualTo(4);
        assertThat(back.isDisputeReplica(5)).isTrue();
        assertThat(back.isDisputeReplica(6)).isFalse();
    }

    @Test
    void keepsTheDisputeFeeItHeld() {
        JobState s = state();
        s.disputeFeeMicros = 250_000;
        JobState back = JobState.serde().deserializer().deserialize("t", s.toBytes());
        assertThat(back.disputeFeeMicros).isEqualTo(250_000);
        assertThat(back.copy().disputeFeeMicros).isEqualTo(250_000);
    }

    /** A VerifierJob written before the fee was kept (schema history version 1) held the fixed fee of its build. */
    @Test
    void aJobWrittenBeforeTheFeeWasKeptHeldTheFixedFee() throws Exception {
        Schema v1 = SchemaHistory.of(VerifierJob.getClassSchema().getFullName()).get(0);
        GenericRecord old = new GenericData.Record(v1);
        for (Schema.Field f : v1.getFields()) {
            old.put(f.name(), state().toAvro().get(f.name()));
        }
        byte[] framed = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(old).array();
        JobState back = JobState.serde().deserializer().deserialize("t", framed);
        assertThat(back).usingRecursiveComparison().isEqualTo(state());
        assertThat(back.disputeFeeMicros).isEqualTo(100_000);
    }

    /** A job's record keeps its tasks and its counted results (in counting order) beside its state. */
    @Test
    void aJobRecordSurvivesTheStoreWithItsTasksAndResults() {
        JobState s = state();
        java.util.SortedMap<String, TaskAssigned> tasks = new java.util.TreeMap<>(Map.of("j/0/0", s.first));
        Map<String, io.agora.events.TaskResult> results = new java.util.HashMap<>();
        for (String id : s.counted) {
            int replica = Integer.parseInt(id.split("/")[1]);
            results.put(id, io.agora.schemas.testing.SignedRecords.unsignedResult("j", "w" + replica, replica, 0,
                    io.agora.events.ResultStatus.SUCCEEDED, "out " + id, 1, Instant.EPOCH, replica));
        }
        JobRecord back = JobRecord.serde().deserializer().deserialize("t",
                JobRecord.serde().serializer().serialize("t", new JobRecord(s, tasks, results)));
        assertThat(back.state()).usingRecursiveComparison().isEqualTo(s);
        assertThat(back.tasks()).isEqualTo(tasks);
        assertThat(back.results()).isEqualTo(results);
        assertThat(back.results().keySet()).containsExactlyElementsOf(s.counted);
    }

    /** A VerifierJob of the build before JobRecord (history's last version) reads as its state with no tasks or results. */
    @Test
    void aJobWrittenBeforeItsRecordKeptTasksAndResultsReadsWithNone() throws Exception {
        List<Schema> history = SchemaHistory.of(VerifierJob.getClassSchema().getFullName());
        Schema before = history.get(history.size() - 1);
        assertThat(before.getField("tasks")).isNull();
        GenericRecord old = new GenericData.Record(before);
        for (Schema.Field f : before.getFields()) {
            old.put(f.name(), GenericData.get().deepCopy(f.schema(), state().toAvro().get(f.name())));
        }
        byte[] framed = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), before).encode(old).array();
        JobRecord back = JobRecord.serde().deserializer().deserialize("t", framed);
        assertThat(back.state()).usingRecursiveComparison().isEqualTo(state());
        assertThat(back.tasks()).isEmpty();
        assertThat(back.results()).isEmpty();
    }

    @Test
    void isStoredAsAvroUnderTheSchemaHistory() {
        byte[] b = JobState.serde().serializer().serialize("t", state());
        assertThat(AgoraSerdes.singleObject(b)).isTrue();
        JobState pending = JobState.serde().deserializer().deserialize("t", cancelPending().toBytes());
        assertThat(pending.first).isNull();
        assertThat(pending).usingRecursiveComparison().isEqualTo(cancelPending());
    }

    /** What the hand-written codec of earlier builds wrote (src/test/resources/legacy-state.txt) is read once, then written as Avro. */
    @Test
    void valuesOfTheEarlierBinaryFormatAreReadAndRewrittenAsAvro() throws Exception {
        Map<String, byte[]> legacy = legacyState();
        var serde = JobState.serde();
        JobState v2 = serde.deserializer().deserialize("t", legacy.get("job.2"));
        assertThat(v2).usingRecursiveComparison().isEqualTo(state());
        JobState v1 = serde.deserializer().deserialize("t", legacy.get("job.1"));
        assertThat(v1.receivedAt).as("unknown: settlement then caps at the verdict's time").isEmpty();
        assertThat(v1).usingRecursiveComparison().ignoringFields("receivedAt").isEqualTo(state());
        assertThat(serde.deserializer().deserialize("t", legacy.get("cancel-pending.2")))
                .usingRecursiveComparison().isEqualTo(cancelPending());

        byte[] rewritten = serde.serializer().serialize("t", v2);
        assertThat(AgoraSerdes.singleObject(rewritten)).isTrue();
        assertThat(serde.deserializer().deserialize("t", rewritten)).usingRecursiveComparison().isEqualTo(state());
        assertThatThrownBy(() -> serde.deserializer().deserialize("t", new byte[]{9, 0, 0}))
                .isInstanceOf(SerializationException.class);
    }

    static Map<String, byte[]> legacyState() throws Exception {
        Map<String, byte[]> out = new java.util.HashMap<>();
        for (String line : Files.readAllLines(Path.of("src/test/resources/legacy-state.txt"))) {
            String[] f = line.split(" ");
            out.put(f[0], HexFormat.of().parseHex(f[1]));
        }
        return out;
    }

    @Test
    void configReadsItsKeys() {
        VerifierConfig c = VerifierConfig.from(AgoraConfig.of(Map.of("agora.verifier.rep.agree", "7",
                "agora.verifier.dispute.window.ms", "1000", "agora.verifier.weighted.threshold", "0.66")));
        assertThat(c.repAgree()).isEqualTo(7);
        assertThat(c.repDissent()).isEqualTo(-10);
        assertThat(c.repFailed()).isEqualTo(-5);
        assertThat(c.disputeWindow()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.weightedThreshold()).isEqualTo(0.66);
        assertThat(c.punctuateInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThatThrownBy(() -> VerifierConfig.from(AgoraConfig.of(Map.of("agora.verifier.weighted.threshold", "1.5"))))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
