package io.agora.matcher;

import io.agora.events.JobRequested;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StateSerdesTest {

    @Test
    void accountAndGateRoundTrip() {
        var acc = new Admission.Account(1234, true);
        var s = StateSerdes.account();
        byte[] b = s.serializer().serialize("t", acc);
        assertThat(b[0]).isEqualTo(StateSerdes.ACCOUNT_V1);
        assertThat(b).hasSize(1 + 8 + 1);
        assertThat(s.deserializer().deserialize("t", b)).isEqualTo(acc);

        var g = new WorkerGateProcessor.GateState(Long.MIN_VALUE, 7, null, -20, io.agora.market.Stake.Account.NEW);
        var gs = StateSerdes.gate();
        assertThat(gs.deserializer().deserialize("t", gs.serializer().serialize("t", g))).isEqualTo(g);
        var g2 = new WorkerGateProcessor.GateState(3, 7, "gpu-é", 5,
                new io.agora.market.Stake.Account(10, 20, 5, 99, 3, java.util.Set.of("job-2", "job-1")));
        assertThat(gs.deserializer().deserialize("t", gs.serializer().serialize("t", g2))).isEqualTo(g2);
        // a gate state written before stakes (format 1) reads with no stake
        byte[] v1 = StateSerdes.encode("gate", StateSerdes.GATE_V1, (out, x) -> {
            out.writeLong(3);
            out.writeLong(7);
            StateSerdes.str(out, "public");
            out.writeLong(5);
        }, g2);
        assertThat(gs.deserializer().deserialize("t", v1))
                .isEqualTo(new WorkerGateProcessor.GateState(3, 7, "public", 5, io.agora.market.Stake.Account.NEW));
    }

    @Test
    void workerRoundTrips() {
        PoolState.Worker w = new PoolState.Worker();
        w.workerId = "w1";
        w.pool = "public";
        w.capabilities = Fx.caps("public", 500).build();
        w.status = PoolState.Status.DRAINING;
        w.reportedStatus = "READY";
        w.lastSeenAt = 42;
        w.reportedFreeSlots = 3;
        w.load = 0.25;
        w.price = 500;
        w.ownedPartitions = new java.util.ArrayList<>(List.of(1, 5));
        w.reputation = -15;
        w.avgLatencyMs = 12.5;
        w.pending.put("job/0/0", 10L);
        w.pending.put("job/1/2", 11L);
        var s = StateSerdes.worker();
        PoolState.Worker back = s.deserializer().deserialize("t", s.serializer().serialize("t", w));
        assertThat(back).usingRecursiveComparison().isEqualTo(w);
        assertThat(back.pending.keySet()).containsExactly("job/0/0", "job/1/2");

        w.held.put("job/0/0", 10L);
        w.held.put("other/0/0", 3L);
        w.expiredLeases.add(7L);
        w.coolingUntil = 300_000;
        w.departed = true;
        w.stakeMicros = 25_000;
        PoolState.Worker held = s.deserializer().deserialize("t", s.serializer().serialize("t", w));
        assertThat(held).usingRecursiveComparison().isEqualTo(w);
        assertThat(held.held.keySet()).containsExactly("job/0/0", "other/0/0");

        // a worker written by the previous build (format 1) still reads: nothing held, not cooling
        byte[] v1 = StateSerdes.encode("pool worker", StateSerdes.WORKER_V1,
                (out, x) -> StateSerdes.writeWorker(out, x, StateSerdes.WORKER_V1), w);
        PoolState.Worker old = s.deserializer().deserialize("t", v1);
        assertThat(old.held).isEmpty();
        assertThat(old.expiredLeases).isEmpty();
        assertThat(old.coolingUntil).isZero();
        assertThat(old.departed).isFalse();
        assertThat(old).usingRecursiveComparison()
                .ignoringFields("held", "expiredLeases", "coolingUntil", "departed", "stakeMicros").isEqualTo(w);

        // format 2 (before the stake was kept): no bond until the next registration
        byte[] v2 = StateSerdes.encode("pool worker", StateSerdes.WORKER_V2,
                (out, x) -> StateSerdes.writeWorker(out, x, StateSerdes.WORKER_V2), w);
        PoolState.Worker beforeStake = s.deserializer().deserialize("t", v2);
        assertThat(beforeStake.stakeMicros).isZero();
        assertThat(beforeStake).usingRecursiveComparison().ignoringFields("stakeMicros").isEqualTo(w);
    }

    @Test
    void jobRoundTripsIncludingACancelPendingJobWithoutRequest() {
        PoolState.Job j = new PoolState.Job();
        j.jobId = "job-1";
        j.request = Fx.job("job-1", "alice", 2, 1000);
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
        var s = StateSerdes.job();
        PoolState.Job back = s.deserializer().deserialize("t", s.serializer().serialize("t", j));
        assertThat(back).usingRecursiveComparison().isEqualTo(j);
        assertThat(back.request).isInstanceOf(JobRequested.class);

        PoolState.Job pending = new PoolState.Job();
        pending.jobId = "job-2";
        pending.pool = "public";
        pending.status = PoolState.JobStatus.CANCEL_PENDING;
        PoolState.Job back2 = s.deserializer().deserialize("t", s.serializer().serialize("t", pending));
        assertThat(back2).usingRecursiveComparison().isEqualTo(pending);

        // a job written by the previous build (format 1, no per-job minimum) still reads, minimum 0
        byte[] v1 = StateSerdes.encode("pool job", StateSerdes.JOB_V1, (out, job) -> StateSerdes.writeJob(out, job, StateSerdes.JOB_V1), j);
        PoolState.Job old = s.deserializer().deserialize("t", v1);
        assertThat(old.replicas.get(2).minPricePerJob).isZero();
        assertThat(old).usingRecursiveComparison().ignoringFields("replicas").isEqualTo(j);
        assertThat(old.replicas.get(2)).usingRecursiveComparison().ignoringFields("minPricePerJob").isEqualTo(r);
    }

    @Test
    void unknownFormatVersionIsRefused() {
        byte[] b = StateSerdes.account().serializer().serialize("t", new Admission.Account(1, true));
        b[0] = 9;
        assertThatThrownBy(() -> StateSerdes.account().deserializer().deserialize("t", b))
                .isInstanceOf(SerializationException.class).hasMessageContaining("format version 9");
    }
}
