package io.agora.worker;

import io.agora.events.Heartbeat;
import io.agora.events.HostHeartbeat;
import io.agora.events.HostedBeat;
import io.agora.events.RegistrationType;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.events.WorkerCapabilities;
import io.agora.events.WorkerRegistration;
import io.agora.events.WorkerStatus;
import io.agora.events.ResultStatus;
import io.agora.schemas.Identity;
import io.agora.schemas.Signatures;
import io.agora.schemas.WorkerRequests;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Builds the worker's outgoing messages, each with the next {@link SeqClock} value and an
 * Ed25519 signature of this worker's {@link Identity}.
 */
public final class MessageSigner {
    private static final ByteBuffer UNSIGNED = ByteBuffer.allocate(0);
    private final Identity identity;
    private final SeqClock seq;

    public MessageSigner(Identity identity, SeqClock seq) {
        this.identity = identity;
        this.seq = seq;
    }

    public String workerId() {
        return identity.workerId();
    }

    public SeqClock seqClock() {
        return seq;
    }

    /** The {@code Authorization} header of a request {@code method path} to ingest-api, signed now ({@link WorkerRequests}). */
    public String authorization(String method, String path) {
        return WorkerRequests.authorization(identity.privateKey(), method, path, System.currentTimeMillis());
    }

    public WorkerRegistration registration(RegistrationType type, WorkerCapabilities caps) {
        return registration(type, caps, 0);
    }

    /** A registration asking the market to keep {@code stakeMicros} of the worker's credits bonded (market's {@code Stake}). */
    public WorkerRegistration registration(RegistrationType type, WorkerCapabilities caps, long stakeMicros) {
        return registration(type, caps, stakeMicros, seq.next());
    }

    /** With the sequence number {@code seq} taken beforehand ({@link SeqClock#next}): the one its benchmark proof answers. */
    public WorkerRegistration registration(RegistrationType type, WorkerCapabilities caps, long stakeMicros, long seq) {
        return Signatures.sign(WorkerRegistration.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setWorkerId(workerId())
                .setType(type)
                .setCapabilities(caps)
                .setStakeMicros(stakeMicros)
                .setSeq(seq)
                .setTimestamp(now())
                .setSignature(UNSIGNED)
                .build(), identity.privateKey());
    }

    public Heartbeat heartbeat(String pool, WorkerStatus status, String reason, int freeSlots, double load,
                               List<String> inFlight, List<Integer> partitions, long price, List<String> imageDigests) {
        return Signatures.sign(Heartbeat.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setWorkerId(workerId())
                .setPool(pool)
                .setSeq(seq.next())
                .setTimestamp(now())
                .setStatus(status)
                .setStatusReason(reason)
                .setFreeSlots(freeSlots)
                .setLoad(load)
                .setInFlightTaskIds(inFlight)
                .setOwnedPartitions(partitions)
                .setPricePerCpuSecondMicros(price)
                .setImageDigests(imageDigests)
                .setSignature(UNSIGNED)
                .build(), identity.privateKey());
    }

    /**
     * This identity's beat inside its host's record {@code seq} ({@link io.agora.schemas.HostBeats}), signed with its
     * key: it counts only in that record of {@code host}. Takes no sequence number of this identity's own.
     */
    HostedBeat hostedBeat(String host, long seq, QuietHeartbeats.Report r) {
        return Signatures.sign(HostedBeat.newBuilder()
                .setWorkerId(workerId())
                .setHost(host)
                .setSeq(seq)
                .setPool(r.pool())
                .setStatus(r.status())
                .setStatusReason(r.reason())
                .setFreeSlots(r.freeSlots())
                .setLoad(r.load())
                .setInFlightTaskIds(r.inFlight())
                .setOwnedPartitions(r.owned())
                .setPricePerCpuSecondMicros(r.price())
                .setImageDigests(r.images())
                .setSignature(UNSIGNED)
                .build(), identity.privateKey());
    }

    /** A host record of {@code beats} (each signed by its identity for this host and {@code seq}), signed as the host. */
    public HostHeartbeat hostHeartbeat(long seq, List<HostedBeat> beats) {
        return Signatures.sign(HostHeartbeat.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setHost(workerId())
                .setSeq(seq)
                .setTimestamp(now())
                .setBeats(beats)
                .setSignature(UNSIGNED)
                .build(), identity.privateKey());
    }

    /** The signed result of a task that ran (or failed to) in the sandbox. */
    public TaskResult result(TaskAssigned task, SandboxOutcome o, int inlineLimit) {
        byte[] out = o.stdout();
        boolean outCut = o.stdoutTruncated() || out.length > inlineLimit;
        byte[] err = o.stderr();
        boolean errCut = o.stderrTruncated() || err.length > inlineLimit;
        return sign(base(task)
                .setStatus(o.status())
                .setStatusReason(o.reason())
                .setExitCode(o.exitCode())
                .setOutputSha256(o.votes() ? o.outputHash() : "")
                .setStdout(text(out, inlineLimit))
                .setStdoutTruncated(outCut)
                .setStderr(text(err, inlineLimit))
                .setStderrTruncated(errCut)
                .setOutputFiles(o.fileHashes())
                .setDurationMs(o.durationMs())
                .setStartedAt(Instant.ofEpochMilli(o.startedAt()))
                .setFinishedAt(Instant.ofEpochMilli(o.finishedAt())));
    }

    /** HANDED_BACK: the task is not run here (misrouted, or queued when the worker drained). */
    public TaskResult handBack(TaskAssigned task, String reason) {
        Instant now = now();
        return sign(base(task)
                .setStatus(ResultStatus.HANDED_BACK)
                .setStatusReason(reason)
                .setExitCode(-1)
                .setOutputSha256("")
                .setOutputFiles(Map.of())
                .setDurationMs(0)
                .setStartedAt(now)
                .setFinishedAt(now));
    }

    private TaskResult.Builder base(TaskAssigned task) {
        return TaskResult.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setTaskId(task.getTaskId())
                .setJobId(task.getJobId())
                .setWorkerId(workerId())
                .setPool(task.getTerms().getPool())
                .setReplica(task.getReplica())
                .setAttempt(task.getAttempt());
    }

    private TaskResult sign(TaskResult.Builder b) {
        return Signatures.sign(b.setSeq(seq.next()).setSignature(UNSIGNED).build(), identity.privateKey());
    }

    private static String text(byte[] b, int limit) {
        return new String(b.length > limit ? Arrays.copyOf(b, limit) : b, StandardCharsets.UTF_8);
    }

    private static Instant now() {
        return Instant.ofEpochMilli(System.currentTimeMillis());
    }
}
