package io.agora.cli;

import io.agora.events.ResultStatus;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.schemas.Identity;
import io.agora.schemas.Signatures;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import static io.agora.cli.Market.*;
import static org.assertj.core.api.Assertions.assertThat;

class SignatureAuditTest {
    private final Identity alice = Identity.generate();
    private final Identity bob = Identity.generate();
    private final Identity mallory = Identity.generate();
    private final TaskAssigned t0 = task("j1", 0, alice.workerId(), "public", 10, T0);
    private final TaskAssigned t1 = task("j1", 1, bob.workerId(), "public", 10, T0);

    private static Map<String, SignatureAudit.VerdictView> verdict(String job, String hash, String... agreeing) {
        return Map.of(job, new SignatureAudit.VerdictView(job, "COMPLETED", hash, List.of(agreeing)));
    }

    @Test
    void validResultsOfTheAssignedWorkersAreClean() {
        TaskResult a = signed(t0, "h", T0, alice);
        TaskResult b = signed(t1, "h", T0, bob);
        assertThat(SignatureAudit.check(a, Map.of(t0.getTaskId(), t0))).isNull();
        SignatureAudit.Report r = SignatureAudit.run(List.of(t0, t1), List.of(a, b), verdict("j1", "h", alice.workerId(), bob.workerId()));
        assertThat(r.valid()).isEqualTo(2);
        assertThat(r.invalid()).isEmpty();
        assertThat(r.clean()).isTrue();
    }

    @Test
    void aForgedSignatureIsInvalidAndAViolationWhenCountedAsAgreeing() {
        // Mallory claims to be Bob: Bob's worker id, Mallory's key.
        TaskResult forged = Signatures.sign(result(t1, "h", T0).setWorkerId(bob.workerId()).build(), mallory.privateKey());
        // A tampered copy of a correctly signed result.
        TaskResult honest = signed(t0, "h", T0, alice);
        TaskResult tampered = TaskResult.newBuilder(honest).setStdout("evil").build();
        assertThat(SignatureAudit.check(forged, Map.of(t1.getTaskId(), t1)).problem()).isEqualTo(SignatureAudit.Problem.BAD_SIGNATURE);
        assertThat(SignatureAudit.check(tampered, Map.of(t0.getTaskId(), t0)).problem()).isEqualTo(SignatureAudit.Problem.BAD_SIGNATURE);

        // Refused by the verifier (Bob not counted): invalid, but no violation.
        SignatureAudit.Report refused = SignatureAudit.run(List.of(t0, t1), List.of(honest, forged), verdict("j1", "h", alice.workerId()));
        assertThat(refused.valid()).isEqualTo(1);
        assertThat(refused.invalid()).singleElement().satisfies(i -> {
            assertThat(i.problem()).isEqualTo(SignatureAudit.Problem.BAD_SIGNATURE);
            assertThat(i.workerId()).isEqualTo(bob.workerId());
        });
        assertThat(refused.violations()).isEmpty();
        assertThat(refused.clean()).isTrue();

        // Counted: the verdict lists Bob as agreeing although his only result is forged.
        SignatureAudit.Report counted = SignatureAudit.run(List.of(t0, t1), List.of(honest, forged),
                verdict("j1", "h", alice.workerId(), bob.workerId()));
        assertThat(counted.violations()).singleElement().asString().contains("BAD_SIGNATURE", bob.workerId(), "j1");
        assertThat(counted.clean()).isFalse();
    }

    @Test
    void aResultFromAWorkerTheTaskWasNotAssignedToIsInvalid() {
        // Mallory signs correctly with her own key, but task 1 was Bob's.
        TaskResult wrong = signed(t1, "h", T0, mallory);
        SignatureAudit.Invalid i = SignatureAudit.check(wrong, Map.of(t1.getTaskId(), t1));
        assertThat(i.problem()).isEqualTo(SignatureAudit.Problem.NOT_ASSIGNED);
        assertThat(i.detail()).contains(bob.workerId());

        SignatureAudit.Report r = SignatureAudit.run(List.of(t0, t1), List.of(signed(t0, "h", T0, alice), wrong),
                verdict("j1", "h", alice.workerId(), mallory.workerId()));
        assertThat(r.violations()).singleElement().asString().contains("NOT_ASSIGNED", mallory.workerId());
    }

    @Test
    void aValidResultOfTheSameWorkerBacksTheVoteDespiteAnInvalidDuplicate() {
        TaskResult good = signed(t1, "h", T0, bob);
        TaskResult forged = Signatures.sign(result(t1, "h", T0).setWorkerId(bob.workerId()).setSeq(2).build(), mallory.privateKey());
        SignatureAudit.Report r = SignatureAudit.run(List.of(t1), List.of(good, forged), verdict("j1", "h", bob.workerId()));
        assertThat(r.invalid()).hasSize(1);
        assertThat(r.violations()).isEmpty();
        assertThat(r.clean()).isTrue();
    }

    @Test
    void malformedTaskIdsAndUnknownTasks() {
        TaskResult malformed = signed(t0, "h", T0, alice);
        malformed.setTaskId("j1/9/9");
        Signatures.sign(malformed, alice.privateKey());
        assertThat(SignatureAudit.check(malformed, Map.of()).problem()).isEqualTo(SignatureAudit.Problem.MALFORMED_TASK_ID);

        // Signed by the worker it names but its task was never read (e.g. past retention): unverifiable, still backs its vote.
        TaskResult orphan = signed(t0, "h", T0, alice);
        SignatureAudit.Report r = SignatureAudit.run(List.of(), List.of(orphan), verdict("j1", "h", alice.workerId()));
        assertThat(r.unverifiable()).hasSize(1);
        assertThat(r.invalid()).isEmpty();
        assertThat(r.clean()).isTrue();

        TaskResult unsigned = result(t0, "h", T0).setSignature(ByteBuffer.wrap(new byte[64])).build();
        SignatureAudit.Report bad = SignatureAudit.run(List.of(), List.of(unsigned), verdict("j1", "h", alice.workerId()));
        assertThat(bad.invalid()).singleElement().extracting(SignatureAudit.Invalid::problem).isEqualTo(SignatureAudit.Problem.UNKNOWN_TASK);
        assertThat(bad.violations()).hasSize(1);
    }

    @Test
    void anAgreeingWorkerWithoutAnyResultIsReportedAsUnbacked() {
        SignatureAudit.Report r = SignatureAudit.run(List.of(t0), List.of(signed(t0, "other", T0, alice)),
                verdict("j1", "h", alice.workerId(), bob.workerId()));
        assertThat(r.unbacked()).hasSize(2); // alice voted another hash; bob sent nothing
        assertThat(r.clean()).isFalse();
    }

    @Test
    void handBacksAreNotVotesAndNeedOnlyTheirOwnSignature() {
        // Bob got Alice's task (misrouted) and hands it back, signed by himself.
        TaskResult handBack = Signatures.sign(result(t0, "", T0).setWorkerId(bob.workerId())
                .setStatus(ResultStatus.HANDED_BACK).build(), bob.privateKey());
        SignatureAudit.Report r = SignatureAudit.run(List.of(t0), List.of(handBack), Map.of());
        assertThat(r.handedBack()).isEqualTo(1);
        assertThat(r.invalid()).isEmpty();
        assertThat(r.clean()).isTrue();
    }
}
