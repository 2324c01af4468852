package io.agora.schemas;

import io.agora.events.TaskResult;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class SignaturesTest {
    private final Identity worker = Identity.generate();

    @Test
    void aSignedResultVerifiesAgainstItsOwnWorkerId() {
        TaskResult r = Signatures.sign(Fixtures.result("job-1", worker.workerId(), 0, 1, "hello\n"), worker.privateKey());
        assertThat(Signatures.verify(r, worker.workerId())).isTrue();
    }

    @Test
    void changingTheReplicaOrAttemptOrOutputBreaksTheSignature() {
        TaskResult r = Signatures.sign(Fixtures.result("job-1", worker.workerId(), 0, 1, "hello\n"), worker.privateKey());
        TaskResult otherReplica = TaskResult.newBuilder(r).setReplica(1).build();
        TaskResult otherAttempt = TaskResult.newBuilder(r).setAttempt(2).build();
        TaskResult otherHash = TaskResult.newBuilder(r).setOutputSha256("00").build();
        TaskResult otherJob = TaskResult.newBuilder(r).setJobId("job-2").build();
        assertThat(Signatures.verify(otherReplica, worker.workerId())).isFalse();
        assertThat(Signatures.verify(otherAttempt, worker.workerId())).isFalse();
        assertThat(Signatures.verify(otherHash, worker.workerId())).isFalse();
        assertThat(Signatures.verify(otherJob, worker.workerId())).isFalse();
    }

    @Test
    void anotherWorkersKeyOrGarbageIdDoesNotVerify() {
        Identity mallory = Identity.generate();
        TaskResult forged = Signatures.sign(Fixtures.result("job-1", worker.workerId(), 0, 1, "x"), mallory.privateKey());
        assertThat(Signatures.verify(forged, worker.workerId())).isFalse();
        assertThat(Signatures.verify(forged, "not-a-key")).isFalse();
        assertThat(Signatures.verify(Fixtures.result("job-1", worker.workerId(), 0, 1, "x"), worker.workerId())).isFalse();
    }

    @Test
    void aKeptKeyStillRefusesWhatItDidNotSignAndTheCanonicalBytesLeaveTheRecordAlone() {
        TaskResult r = Signatures.sign(Fixtures.result("job-1", worker.workerId(), 0, 1, "hello\n"), worker.privateKey());
        TaskResult before = TaskResult.newBuilder(r).build();
        for (int i = 0; i < 3; i++) {
            assertThat(Signatures.verify(r, worker.workerId())).isTrue();
            assertThat(Signatures.verify(TaskResult.newBuilder(r).setReplica(2).build(), worker.workerId())).isFalse();
            assertThat(Signatures.verify(r, Identity.generate().workerId())).isFalse();
        }
        assertThat(r).isEqualTo(before);
        assertThat(r.getSignature().remaining()).isPositive();
    }

    @Test
    void theKeyFileIsOwnerOnlyAndReloadsToTheSameId(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path file = dir.resolve("keys/worker.key");
        Identity first = Identity.loadOrCreate(file);
        Identity again = Identity.loadOrCreate(file);
        assertThat(again.workerId()).isEqualTo(first.workerId());
        assertThat(Files.getPosixFilePermissions(file))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(first.workerId()).hasSize(43).doesNotContain("=", "+", "/");
    }
}
