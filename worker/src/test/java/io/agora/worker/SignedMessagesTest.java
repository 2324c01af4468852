package io.agora.worker;

import io.agora.events.Heartbeat;
import io.agora.events.RegistrationType;
import io.agora.events.ResultStatus;
import io.agora.events.TaskResult;
import io.agora.events.WorkerRegistration;
import io.agora.events.WorkerStatus;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Identity;
import io.agora.schemas.OutputHash;
import io.agora.schemas.Topics;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SignedMessagesTest {
    @TempDir
    Path dir;

    final Identity identity = Identity.generate();
    final MessageSigner signer = new MessageSigner(identity, new SeqClock(null));

    @Test
    void a_signed_heartbeat_is_accepted_once() {
        ReplayGuard guard = new ReplayGuard();
        Heartbeat hb = heartbeat();
        assertThat(SignedMessages.verify(hb, guard).accepted()).isTrue();
        SignedMessages.Check replay = SignedMessages.verify(hb, guard);
        assertThat(replay.accepted()).isFalse();
        assertThat(replay.reason()).contains("replayed");
    }

    @Test
    void older_seq_is_refused_newer_accepted() {
        ReplayGuard guard = new ReplayGuard();
        Heartbeat first = heartbeat();
        Heartbeat second = heartbeat();
        assertThat(SignedMessages.verify(second, guard).accepted()).isTrue();
        assertThat(SignedMessages.verify(first, guard).accepted()).isFalse();
        assertThat(SignedMessages.verify(heartbeat(), guard).accepted()).isTrue();
    }

    @Test
    void a_tampered_result_is_refused_and_does_not_advance_the_guard() {
        ReplayGuard guard = new ReplayGuard();
        TaskResult r = result();
        TaskResult tampered = TaskResult.newBuilder(r).setOutputSha256(OutputHash.sha256Hex(new byte[]{1})).build();
        SignedMessages.Check c = SignedMessages.verify(tampered, guard);
        assertThat(c.accepted()).isFalse();
        assertThat(c.reason()).contains("bad signature");
        assertThat(guard.highest(identity.workerId())).isEmpty();
        TaskResult otherAttempt = TaskResult.newBuilder(r).setAttempt(2).build();
        assertThat(SignedMessages.verifySignature(otherAttempt).accepted()).isFalse();
        assertThat(SignedMessages.verify(r, guard).accepted()).isTrue();
    }

    @Test
    void a_message_signed_by_another_key_is_refused() {
        TaskResult r = result();
        TaskResult forged = TaskResult.newBuilder(new MessageSigner(Identity.generate(), new SeqClock(null)).result(
                Tasks.task(identity.workerId(), Tasks.spec("true").build()), outcome(), 1024))
                .setWorkerId(identity.workerId()).build();
        assertThat(SignedMessages.verifySignature(r).accepted()).isTrue();
        assertThat(SignedMessages.verifySignature(forged).accepted()).isFalse();
    }

    @Test
    void signatures_survive_the_wire() {
        Serde<WorkerRegistration> serde = AgoraSerdes.plain().avroSerde(WorkerRegistration.class);
        WorkerRegistration reg = signer.registration(RegistrationType.DEREGISTERED, null);
        byte[] bytes = serde.serializer().serialize(Topics.REGISTRATIONS.name(), reg);
        WorkerRegistration back = serde.deserializer().deserialize(Topics.REGISTRATIONS.name(), bytes);
        assertThat(SignedMessages.verify(back, new ReplayGuard()).accepted()).isTrue();
    }

    @Test
    void the_stake_asked_for_is_signed_so_nobody_else_can_bond_or_unbond_it() {
        WorkerRegistration reg = signer.registration(RegistrationType.DEREGISTERED, null, 5_000);
        assertThat(reg.getStakeMicros()).isEqualTo(5_000);
        assertThat(SignedMessages.verify(reg, new ReplayGuard()).accepted()).isTrue();
        WorkerRegistration altered = WorkerRegistration.newBuilder(reg).setStakeMicros(0).build();
        assertThat(SignedMessages.verifySignature(altered).accepted()).isFalse();
    }

    @Test
    void seq_is_strictly_increasing_across_restarts() {
        Path f = dir.resolve("worker.seq");
        long[] clock = {5_000};
        SeqClock a = new SeqClock(f, () -> clock[0]);
        long s1 = a.next();
        long s2 = a.next();
        assertThat(s2).isGreaterThan(s1);
        a.save();
        clock[0] = 10; // the clock stepped back over a restart
        SeqClock b = new SeqClock(f, () -> clock[0]);
        assertThat(b.next()).isGreaterThan(s2);
        SeqClock lost = new SeqClock(dir.resolve("none"), () -> 9_000);
        assertThat(lost.next()).as("time based when nothing was saved").isEqualTo(9_000);
    }

    @Test
    void the_key_file_is_owner_only_and_reloads_the_same_id() throws Exception {
        Path key = dir.resolve("state/worker.key");
        Identity a = Identity.loadOrCreate(key);
        assertThat(Files.getPosixFilePermissions(key))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(Identity.loadOrCreate(key).workerId()).isEqualTo(a.workerId());
    }

    @Test
    void a_result_carries_stdout_and_stderr_apart_each_cut_at_the_inline_limit_and_flagged_when_cut() {
        byte[] out = "0123456789".getBytes(StandardCharsets.UTF_8);
        SandboxOutcome o = new SandboxOutcome(ResultStatus.SUCCEEDED, null, 0, out, false,
                "warn".getBytes(StandardCharsets.UTF_8), false, Map.of(), 1, 2);
        TaskResult r = signer.result(Tasks.task(identity.workerId(), Tasks.spec("echo", "hi").build()), o, 4);
        assertThat(r.getStdout()).isEqualTo("0123");
        assertThat(r.getStdoutTruncated()).isTrue();
        assertThat(r.getOutputSha256()).as("the vote covers every byte captured").isEqualTo(OutputHash.of(0, out, Map.of()));
        assertThat(r.getStderr()).isEqualTo("warn");
        assertThat(r.getStderrTruncated()).as("exactly the limit").isFalse();
        SandboxOutcome capped = new SandboxOutcome(ResultStatus.SUCCEEDED, null, 0, out, false,
                "w".getBytes(StandardCharsets.UTF_8), true, Map.of(), 1, 2);
        assertThat(signer.result(Tasks.task(identity.workerId(), Tasks.spec("echo", "hi").build()), capped, 4)
                .getStderrTruncated()).as("the sandbox cut it at stderr.cap").isTrue();
    }

    private Heartbeat heartbeat() {
        return signer.heartbeat("public", WorkerStatus.READY, null, 2, 0.0, List.of("j/0/1"), List.of(3, 7), 800,
                List.of("sha256:" + "ab".repeat(32)));
    }

    private TaskResult result() {
        return signer.result(Tasks.task(identity.workerId(), Tasks.spec("echo", "hi").build()), outcome(), 1024);
    }

    private static SandboxOutcome outcome() {
        return new SandboxOutcome(ResultStatus.SUCCEEDED, null, 0, "hi\n".getBytes(StandardCharsets.UTF_8), false,
                new byte[0], false, Map.of(), 1, 2);
    }
}
