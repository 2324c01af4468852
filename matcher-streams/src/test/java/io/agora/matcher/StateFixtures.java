package io.agora.matcher;

import io.agora.schemas.testing.SignedRecords;
import io.agora.events.CommandType;
import io.agora.events.JobCommand;
import io.agora.events.JobRequested;
import io.agora.events.WorkerCapabilities;
import io.agora.market.Stake;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One value of every matcher state type with every field set, deterministic (no random ids or
 * keys), so that the bytes an earlier build wrote for them can be kept in
 * {@code src/test/resources/legacy-state.txt} and compared.
 */
final class StateFixtures {
    private StateFixtures() {
    }

    static final Admission.Account ACCOUNT = new Admission.Account(1234, true);
    static final WorkerGateProcessor.GateState GATE = new WorkerGateProcessor.GateState(3, 7, "gpu-é", 5,
            new Stake.Account(10, 20, 5, 99, 3, Set.of("job-2", "job-1")));

    static WorkerCapabilities caps() {
        return Fx.caps("public", 500).setSealKey("seal-key").build();
    }

    static JobRequested request() {
        return JobRequested.newBuilder(Fx.job("job-1", "alice", 2, 1000)).setEventId("event-1").build();
    }

    static PoolState.Worker worker() {
        PoolState.Worker w = new PoolState.Worker();
        w.workerId = "w1";
        w.pool = "public";
        w.capabilities = caps();
        w.status = PoolState.Status.DRAINING;
        w.reportedStatus = "READY";
        w.lastSeenAt = 42;
        w.reportedFreeSlots = 3;
        w.load = 0.25;
        w.price = 500;
        w.ownedPartitions = new ArrayList<>(List.of(1, 5));
        w.reputation = -15;
        w.avgLatencyMs = 12.5;
        w.pending.put("job/0/0", 10L);
        w.pending.put("job/1/2", 11L);
        w.held.put("job/0/0", 10L);
        w.held.put("other/0/0", 3L);
        w.expiredLeases.add(7L);
        w.coolingUntil = 300_000;
        w.departed = true;
        return w;
    }

    static PoolState.Job job() {
        PoolState.Job j = new PoolState.Job();
        j.jobId = "job-1";
        j.request = request();
        j.escrowMicros = 20_000;
        j.pool = "public";
        j.status = PoolState.JobStatus.RUNNING;
        j.queuedAt = 5;
        j.queueKey = "public|x|job-1";
        j.nextReplica = 3;
        PoolState.Replica r = new PoolState.Replica();
        r.replica = 2;
        r.attempt = 1;
        r.state = PoolState.ReplicaState.LEASED;
        r.workerId = "w9";
        r.assignedAt = 100;
        r.leaseDeadline = 200;
        r.partition = 7;
        r.notBefore = 50;
        r.reason = "lease expired";
        r.score = 0.75;
        r.explain = "cap=1";
        r.price = 400;
        r.minPricePerJob = 1_500;
        j.replicas.put(2, r);
        j.replicas.put(0, new PoolState.Replica());
        j.touched.add("w9");
        j.touched.add("w1");
        j.forgetAt = 999;
        j.startedAt = 77;
        return j;
    }

    /** A cancel that arrived before its job: no request, most fields unset. */
    static PoolState.Job cancelPending() {
        PoolState.Job j = new PoolState.Job();
        j.jobId = "job-2";
        j.pool = "public";
        j.status = PoolState.JobStatus.CANCEL_PENDING;
        return j;
    }

    /** One pool event of each kind. */
    static List<Flow.PoolEvent> poolEvents() {
        JobCommand cancel = JobCommand.newBuilder().setEventId("event-2").setJobId("job-1").setClientId("alice")
                .setPool("public").setType(CommandType.CANCEL).setTimestamp(Instant.ofEpochMilli(9)).build();
        return List.of(
                new Flow.Admitted(request(), 77),
                new Flow.Registered(io.agora.events.WorkerRegistration.newBuilder(SignedRecords.registration("w1", caps(), 4, 8))
                        .setEventId("event-3").build(), -5),
                new Flow.Removed("w2"),
                new Flow.Beat(io.agora.events.Heartbeat.newBuilder(SignedRecords.heartbeat("w1", "public", 5, 9, 2, List.of(1, 5),
                        List.of("job/0/0"), 500)).setEventId("event-4").setSignature(ByteBuffer.wrap(new byte[]{1, 2})).build()),
                new Flow.Reputation("w1", 12),
                new Flow.Result("job-1/0/1", "job-1", "w1", 0, 1, "SUCCEEDED", 42),
                new Flow.Command(cancel));
    }
}
