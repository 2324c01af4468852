package io.agora.schemas.testing;

import io.agora.events.Heartbeat;
import io.agora.events.HostHeartbeat;
import io.agora.events.HostedBeat;
import io.agora.events.RegistrationType;
import io.agora.events.ResultStatus;
import io.agora.events.TaskResult;
import io.agora.events.WorkerCapabilities;
import io.agora.events.WorkerRegistration;
import io.agora.events.WorkerStatus;
import io.agora.schemas.HostBeats;
import io.agora.schemas.Identity;
import io.agora.schemas.OutputHash;
import io.agora.schemas.Signatures;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What a worker writes, built as tests need it: registrations, heartbeats and results, signed with
 * the worker's {@link Identity} (the gates check the signature first) or unsigned for a stage
 * that runs behind the gate. Shipped in the schemas test-jar beside {@link TopologyHarness}.
 */
public final class SignedRecords {
    private SignedRecords() {
    }

    public static WorkerRegistration registration(Identity id, WorkerCapabilities caps, long seq, long ts) {
        return Signatures.sign(registration(id.workerId(), caps, seq, ts), id.privateKey());
    }

    /** Unsigned, for the pool stage alone (the worker gate checks signatures before it). */
    public static WorkerRegistration registration(String workerId, WorkerCapabilities caps, long seq, long ts) {
        return WorkerRegistration.newBuilder().setEventId(UUID.randomUUID().toString())
                .setWorkerId(workerId).setType(RegistrationType.REGISTERED).setCapabilities(caps)
                .setSeq(seq).setTimestamp(Instant.ofEpochMilli(ts)).setSignature(ByteBuffer.allocate(0)).build();
    }

    public static WorkerRegistration deregistration(Identity id, long seq, long ts) {
        return Signatures.sign(deregistration(id.workerId(), seq, ts), id.privateKey());
    }

    /** Unsigned, for the pool stage alone. */
    public static WorkerRegistration deregistration(String workerId, long seq, long ts) {
        return WorkerRegistration.newBuilder().setEventId(UUID.randomUUID().toString())
                .setWorkerId(workerId).setType(RegistrationType.DEREGISTERED).setCapabilities(null)
                .setSeq(seq).setTimestamp(Instant.ofEpochMilli(ts)).setSignature(ByteBuffer.allocate(0)).build();
    }

    /** A signed READY heartbeat at load 0.1 asking 500 micro-credits per cpu-second. */
    public static Heartbeat heartbeat(Identity id, String pool, long seq, long ts, int freeSlots, List<Integer> partitions,
                                      List<String> inFlight) {
        return Signatures.sign(heartbeat(id.workerId(), pool, seq, ts, freeSlots, partitions, inFlight, 500),
                id.privateKey());
    }

    /** Unsigned, for the pool stage alone: a READY heartbeat at load 0.1 asking {@code price}. */
    public static Heartbeat heartbeat(String workerId, String pool, long seq, long ts, int freeSlots,
                                      List<Integer> partitions, List<String> inFlight, long price) {
        return Heartbeat.newBuilder().setEventId(UUID.randomUUID().toString()).setWorkerId(workerId)
                .setPool(pool).setSeq(seq).setTimestamp(Instant.ofEpochMilli(ts)).setStatus(WorkerStatus.READY)
                .setFreeSlots(freeSlots).setLoad(0.1).setInFlightTaskIds(inFlight).setOwnedPartitions(partitions)
                .setPricePerCpuSecondMicros(price).setSignature(ByteBuffer.allocate(0)).build();
    }

    /**
     * A READY beat at load 0.1 asking 500 micro-credits per cpu-second of {@code workerId} inside the record {@code seq}
     * of {@code host}, signed with {@code signer} (the worker's own key, or another's for a forgery).
     */
    public static HostedBeat hostedBeat(Identity signer, String workerId, String host, long seq, String pool, int freeSlots,
                                        List<Integer> partitions, List<String> inFlight) {
        return Signatures.sign(HostedBeat.newBuilder().setWorkerId(workerId).setHost(host).setSeq(seq).setPool(pool)
                .setStatus(WorkerStatus.READY).setFreeSlots(freeSlots).setLoad(0.1).setInFlightTaskIds(inFlight)
                .setOwnedPartitions(partitions).setPricePerCpuSecondMicros(500).setSignature(ByteBuffer.allocate(0)).build(),
                signer.privateKey());
    }

    /** A host's record of {@code beats}, signed by {@code host}. */
    public static HostHeartbeat hostHeartbeat(Identity host, long seq, long ts, List<HostedBeat> beats) {
        return Signatures.sign(HostHeartbeat.newBuilder().setEventId(UUID.randomUUID().toString()).setHost(host.workerId())
                .setSeq(seq).setTimestamp(Instant.ofEpochMilli(ts)).setBeats(beats).setSignature(ByteBuffer.allocate(0))
                .build(), host.privateKey());
    }

    /** {@code n} fresh identities whose records all go to one partition ({@link HostBeats#partition}), as a host groups them. */
    public static List<Identity> identitiesOfOnePartition(int n) {
        Identity first = Identity.generate();
        List<Identity> out = new ArrayList<>(List.of(first));
        while (out.size() < n) {
            Identity id = Identity.generate();
            if (HostBeats.partition(id.workerId()) == HostBeats.partition(first.workerId())) {
                out.add(id);
            }
        }
        return out;
    }

    /**
     * An unsigned result of task {@code jobId/replica/attempt} run from {@code startedAt} for
     * {@code durationMs}: SUCCEEDED with exit 0 and the hash of {@code stdout}, or, for any other
     * status, exit -1 and no output.
     */
    public static TaskResult unsignedResult(String jobId, String workerId, int replica, int attempt, ResultStatus status,
                                            String stdout, long durationMs, Instant startedAt, long seq) {
        boolean ran = status == ResultStatus.SUCCEEDED;
        String out = ran ? stdout : "";
        return TaskResult.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setTaskId(jobId + "/" + replica + "/" + attempt).setJobId(jobId)
                .setWorkerId(workerId).setReplica(replica).setAttempt(attempt).setStatus(status)
                .setExitCode(ran ? 0 : -1).setOutputSha256(ran ? hash(out) : "").setStdout(out).setDurationMs(durationMs)
                .setStartedAt(startedAt).setFinishedAt(startedAt.plusMillis(durationMs)).setSeq(seq)
                .setSignature(ByteBuffer.allocate(0)).build();
    }

    /** {@link #unsignedResult}, signed by the worker. */
    public static TaskResult result(Identity w, String jobId, int replica, int attempt, ResultStatus status, String stdout,
                                    long durationMs, Instant startedAt, long seq) {
        return Signatures.sign(unsignedResult(jobId, w.workerId(), replica, attempt, status, stdout, durationMs, startedAt,
                seq), w.privateKey());
    }

    /** The output hash of a run that printed {@code stdout}, exited 0 and wrote no files. */
    public static String hash(String stdout) {
        return OutputHash.of(0, stdout.getBytes(StandardCharsets.UTF_8), Map.of());
    }
}
