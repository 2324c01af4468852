package io.agora.schemas;

import io.agora.events.JobTerms;
import io.agora.events.Strategy;
import io.agora.events.TaskAssigned;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A task's spec sealed to one worker's key opens with that key only, and only for that task. */
class TaskSealTest {
    private final TaskSeal.Keys worker = TaskSeal.Keys.generate();
    private final TaskSeal.Keys other = TaskSeal.Keys.generate();

    private static TaskAssigned task(String taskId) {
        JobTerms terms = JobTerms.newBuilder().setClientId("c").setPool("public").setRedundancy(1).setQuorum(1)
                .setStrategy(Strategy.FIRST).setMaxTotalResults(1).setMaxPricePerCpuSecondMicros(1000)
                .setEscrowMicros(50_000).setSubmittedAt(Instant.ofEpochMilli(1_000)).setDeadline(Instant.ofEpochMilli(61_000))
                .build();
        return TaskAssigned.newBuilder().setEventId("e1").setTaskId(taskId).setJobId("j").setWorkerId("w")
                .setReplica(0).setAttempt(0)
                .setSpec(io.agora.events.JobSpec.newBuilder(Fixtures.spec("sh", "-c", "curl -H $TOKEN"))
                        .setEnv(Map.of("TOKEN", "s3cret")).build())
                .setTerms(terms).setPricePerCpuSecondMicros(800).setLeaseDeadline(Instant.ofEpochMilli(16_000))
                .setScore(0.9).setExplain("x").setAssignedAt(Instant.ofEpochMilli(1_000)).build();
    }

    @Test
    void onlyTheAddressedWorkerOpensTheSpecAndTheClearRecordHoldsNoCommandNorEnv() {
        TaskAssigned plain = task("j/0/0");
        TaskAssigned sealed = TaskSeal.seal(plain, worker.publicKey());
        var serde = AgoraSerdes.plain().avroSerde(TaskAssigned.class);
        byte[] wire = serde.serializer().serialize("t", sealed);
        assertThat(new String(wire, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("s3cret", "curl");
        TaskAssigned read = serde.deserializer().deserialize("t", wire);
        assertThat(read.getSpec().getCommand()).isEmpty();
        assertThat(read.getSpec().getEnv()).isEmpty();
        assertThat(read.getSpec().getTimeoutMs()).as("what matching and pricing need stays").isEqualTo(plain.getSpec().getTimeoutMs());

        assertThat(TaskSeal.open(read, worker).getSpec()).isEqualTo(plain.getSpec());
        assertThatThrownBy(() -> TaskSeal.open(read, other)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not open");
        TaskAssigned moved = TaskAssigned.newBuilder(read).setTaskId("j/0/1").build();
        assertThatThrownBy(() -> TaskSeal.open(moved, worker)).as("bound to its task").isInstanceOf(IllegalArgumentException.class);
        assertThat(TaskSeal.seal(plain, worker.publicKey()).getSealedSpec()).as("a fresh ephemeral key each time")
                .isNotEqualTo(sealed.getSealedSpec());
    }

    @Test
    void aWorkersSealKeyIsKeptInItsStateDirAndValidated(@TempDir Path dir) {
        TaskSeal.Keys k = TaskSeal.Keys.loadOrCreate(dir.resolve("worker.seal.key"));
        TaskSeal.Keys again = TaskSeal.Keys.loadOrCreate(dir.resolve("worker.seal.key"));
        assertThat(again.publicKey()).isEqualTo(k.publicKey());
        assertThat(TaskSeal.open(TaskSeal.seal(task("j/0/0"), k.publicKey()), again).getSpec().getEnv())
                .containsEntry("TOKEN", "s3cret");
        assertThat(TaskSeal.isKey(k.publicKey())).isTrue();
        assertThat(TaskSeal.isKey("AAAA")).isFalse();
        assertThat(TaskSeal.isKey(null)).isFalse();
        assertThat(TaskSeal.isKey("not base64url!")).isFalse();
    }
}
