package io.agora.verifier;

import io.agora.events.ResultStatus;
import io.agora.events.TaskResult;
import io.agora.schemas.AgoraSerdes;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The verifier's small store values (orphans, worker standings): Avro records, earlier formats read once. */
class StoreValuesTest {

    /** A result waiting for its task, every field set, deterministic (legacy-state.txt holds what an earlier build wrote for it). */
    static Orphan orphan() {
        Instant t = Instant.parse("2030-01-01T00:00:00Z");
        TaskResult r = TaskResult.newBuilder().setEventId("e").setTaskId("j/0/0").setJobId("j").setWorkerId("w").setPool("p")
                .setReplica(0).setAttempt(1).setStatus(ResultStatus.FAILED_EXIT).setStatusReason("exit 3").setExitCode(3)
                .setOutputSha256("ab").setStdout("o").setStdoutTruncated(true).setStderr("e").setOutputFiles(Map.of("f", "cd"))
                .setDurationMs(5).setStartedAt(t).setFinishedAt(t.plusMillis(5)).setSeq(2)
                .setSignature(ByteBuffer.wrap(new byte[]{1, 2})).build();
        return new Orphan(1_893_456_000_123L, r);
    }

    /** A negative reputation (the legacy value then starts with FF, still not the Avro header). */
    static final WorkerStanding STANDING = new WorkerStanding(-7, 20);

    @Test
    void orphansAreStoredAsAvroAndEarlierValuesReadOnce() throws Exception {
        rewritesAsAvro(Orphan.serde(), orphan(), JobStateTest.legacyState().get("orphan.0"));
        assertThatThrownBy(() -> Orphan.serde().deserializer().deserialize("t", new byte[]{0, 0, 0}))
                .isInstanceOf(SerializationException.class);
    }

    @Test
    void standingsAreStoredAsAvroAndEarlierValuesReadOnce() throws Exception {
        rewritesAsAvro(WorkerStanding.serde(), STANDING, JobStateTest.legacyState().get("standing.0"));
        assertThatThrownBy(() -> WorkerStanding.serde().deserializer().deserialize("t", new byte[]{0, 0, 0, 7}))
                .isInstanceOf(SerializationException.class);
    }

    /** The value survives the store as Avro, and its legacy bytes read as the same value, written back as Avro. */
    private static <T> void rewritesAsAvro(Serde<T> serde, T value, byte[] legacy) {
        byte[] avro = serde.serializer().serialize("t", value);
        assertThat(AgoraSerdes.singleObject(avro)).isTrue();
        assertThat(serde.deserializer().deserialize("t", avro)).isEqualTo(value);
        assertThat(AgoraSerdes.singleObject(legacy)).isFalse();
        T old = serde.deserializer().deserialize("t", legacy);
        assertThat(old).isEqualTo(value);
        assertThat(serde.serializer().serialize("t", old)).isEqualTo(avro);
    }
}
