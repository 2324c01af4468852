package io.agora.schemas;

import io.agora.events.JobTerms;
import io.agora.events.Strategy;
import io.agora.events.TaskAssigned;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A task signed by the matcher's key verifies with its public key, and only untouched; the key is provisioned by file. */
class AssignmentsTest {
    private final Identity matcher = Identity.generate();

    private static TaskAssigned task() {
        JobTerms terms = JobTerms.newBuilder().setClientId("c").setPool("public").setRedundancy(1).setQuorum(1)
                .setStrategy(Strategy.FIRST).setMaxTotalResults(1).setMaxPricePerCpuSecondMicros(1000)
                .setEscrowMicros(50_000).setSubmittedAt(Instant.ofEpochMilli(1_000)).setDeadline(Instant.ofEpochMilli(61_000))
                .build();
        return TaskAssigned.newBuilder().setEventId("e1").setTaskId("j/0/0").setJobId("j").setWorkerId("w")
                .setReplica(0).setAttempt(0).setSpec(Fixtures.spec("echo", "hi")).setTerms(terms)
                .setPricePerCpuSecondMicros(800).setLeaseDeadline(Instant.ofEpochMilli(16_000)).setScore(0.9)
                .setExplain("x").setAssignedAt(Instant.ofEpochMilli(1_000)).build();
    }

    @Test
    void aSignedTaskVerifiesAfterTheWireAndAnyChangeOrOtherKeyFails() {
        TaskAssigned t = Assignments.sign(task(), matcher);
        assertThat(Assignments.problem(t, matcher.workerId())).isEmpty();
        var serde = AgoraSerdes.plain().avroSerde(TaskAssigned.class);
        assertThat(Assignments.problem(serde.deserializer().deserialize("t", serde.serializer().serialize("t", t)),
                matcher.workerId())).isEmpty();

        assertThat(Assignments.problem(t, Identity.generate().workerId()))
                .contains("bad matcher signature: the task is not one the matcher signed");
        TaskAssigned raised = TaskAssigned.newBuilder(t).setPricePerCpuSecondMicros(801).build();
        assertThat(Assignments.problem(raised, matcher.workerId())).isPresent();
        TaskAssigned readdressed = TaskAssigned.newBuilder(t).setWorkerId("w2").build();
        assertThat(Assignments.problem(readdressed, matcher.workerId())).isPresent();
        assertThat(Assignments.problem(task(), matcher.workerId())).contains("task not signed by the matcher");
        assertThat(Assignments.problem(t, "not a key")).isPresent();
    }

    @Test
    void theMatcherKeyIsProvisionedByFileAndItsPublicHalfIsReadByTheOthers(@TempDir Path dir) throws Exception {
        Identity key = MatcherKey.load(AgoraConfig.of(Map.of()), dir);
        Path pub = dir.resolve("matcher.key.pub");
        assertThat(Files.readString(pub).strip()).isEqualTo(key.workerId());
        assertThat(MatcherKey.load(AgoraConfig.of(Map.of(MatcherKey.FILE_CONFIG, dir.resolve("matcher.key").toString())),
                dir.resolve("elsewhere")).workerId()).isEqualTo(key.workerId());
        assertThatThrownBy(() -> MatcherKey.load(AgoraConfig.of(Map.of(MatcherKey.FILE_CONFIG, dir.resolve("none").toString())), dir))
                .hasMessageContaining("not a readable file");

        assertThat(MatcherKey.publicKey(AgoraConfig.of(Map.of(MatcherKey.PUBLIC_FILE_CONFIG, pub.toString()))))
                .isEqualTo(key.workerId());
        assertThat(MatcherKey.publicKey(AgoraConfig.of(Map.of(MatcherKey.PUBLIC_CONFIG, "abc")))).isEqualTo("abc");
        assertThatThrownBy(() -> MatcherKey.publicKey(AgoraConfig.of(Map.of())))
                .hasMessageContaining("AGORA_MATCHER_PUBLIC_KEY");
    }
}
