package io.agora.matcher;

import io.agora.events.Heartbeat;
import io.agora.events.JobCommand;
import io.agora.events.JobRequested;
import io.agora.events.WorkerCapabilities;
import io.agora.events.WorkerRegistration;
import io.agora.events.state.AdmissionAccount;
import io.agora.events.state.PoolAdmitted;
import io.agora.events.state.PoolBeat;
import io.agora.events.state.PoolCommand;
import io.agora.events.state.PoolEvent;
import io.agora.events.state.PoolJob;
import io.agora.events.state.PoolRegistered;
import io.agora.events.state.PoolRemoved;
import io.agora.events.state.PoolReplica;
import io.agora.events.state.PoolReputation;
import io.agora.events.state.PoolResult;
import io.agora.events.state.PoolSilent;
import io.agora.events.state.PoolWorker;
import io.agora.events.state.StakeAccount;
import io.agora.events.state.TaskSince;
import io.agora.events.state.WorkerGate;
import io.agora.market.Stake;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.StateSerde;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The matcher's state as Avro: the serdes of its four stores (so of their changelogs) and of the
 * pool-events repartition topic, and the one place where the in-memory models ({@link Admission.Account},
 * {@link WorkerGateProcessor.GateState}, {@link PoolState}, {@link Flow.PoolEvent}) and the records of
 * {@code schemas/src/main/avro/matcher-state.avsc} are converted. A value of the earlier hand-written
 * format is read by {@link LegacyState} ({@link StateSerde}).
 *
 * <p>Embedded events (a worker's capabilities, a job's request, a pool event's record) are stored as
 * their own plain Avro bytes, so an event's schema change does not change these records. A pool
 * record keeps those bytes beside the event (an event is never changed once stored, only replaced), so
 * a worker or job saved again (every heartbeat, every lease renewal) does not encode it again.
 */
final class StateSerdes {
    private static final AgoraSerdes PLAIN = AgoraSerdes.plain();
    private static final Serde<Admission.Account> ACCOUNT = StateSerde.of(AdmissionAccount.class,
            a -> new AdmissionAccount(a.availableMicros(), a.granted()),
            r -> new Admission.Account(r.getAvailableMicros(), r.getGranted()), LegacyState::account);
    private static final Serde<WorkerGateProcessor.GateState> GATE = StateSerde.of(WorkerGate.class,
            StateSerdes::toAvro, StateSerdes::fromAvro, LegacyState::gate);
    private static final Serde<PoolState.Worker> WORKER = StateSerde.of(PoolWorker.class,
            StateSerdes::toAvro, StateSerdes::fromAvro, LegacyState::worker);
    private static final Serde<PoolState.Job> JOB = StateSerde.of(PoolJob.class,
            StateSerdes::toAvro, StateSerdes::fromAvro, LegacyState::job);
    private static final Serde<Flow.PoolEvent> POOL_EVENT = StateSerde.of(PoolEvent.class,
            StateSerdes::toAvro, StateSerdes::fromAvro, LegacyState::poolEvent);

    private StateSerdes() {
    }

    static Serde<Admission.Account> account() {
        return ACCOUNT;
    }

    static Serde<WorkerGateProcessor.GateState> gate() {
        return GATE;
    }

    static Serde<PoolState.Worker> worker() {
        return WORKER;
    }

    static Serde<PoolState.Job> job() {
        return JOB;
    }

    static Serde<Flow.PoolEvent> poolEvent() {
        return POOL_EVENT;
    }

    // ---- worker gate ----------------------------------------------------------------------

    static WorkerGate toAvro(WorkerGateProcessor.GateState g) {
        Stake.Account a = g.stake();
        return new WorkerGate(g.registrationSeq(), g.heartbeatSeq(), g.pool(), g.reputation(),
                new StakeAccount(a.availableMicros(), a.bondedMicros(), a.unbondingMicros(), a.unbondDueAt(),
                        a.unbondSeq(), new ArrayList<>(a.disputes())));
    }

    static WorkerGateProcessor.GateState fromAvro(WorkerGate r) {
        StakeAccount a = r.getStake();
        return new WorkerGateProcessor.GateState(r.getRegistrationSeq(), r.getHeartbeatSeq(), r.getPool(),
                r.getReputation(), new Stake.Account(a.getAvailableMicros(), a.getBondedMicros(),
                a.getUnbondingMicros(), a.getUnbondDueAt(), a.getUnbondSeq(), new TreeSet<>(a.getDisputes())));
    }

    // ---- pool workers and jobs ------------------------------------------------------------

    static PoolWorker toAvro(PoolState.Worker w) {
        if (w.capabilities != null && w.capabilitiesEncoded != w.capabilities) {
            w.capabilitiesBytes = bytes(w.capabilities);
            w.capabilitiesEncoded = w.capabilities;
        }
        return new PoolWorker(w.workerId, w.pool, w.capabilities == null ? null : ByteBuffer.wrap(w.capabilitiesBytes),
                name(w.status), w.reportedStatus, w.lastSeenAt, w.reportedFreeSlots, w.load, w.price,
                new ArrayList<>(w.ownedPartitions), w.reputation, w.avgLatencyMs, tasks(w.pending), tasks(w.held),
                new ArrayList<>(w.expiredLeases), w.coolingUntil, w.departed, w.stakeMicros);
    }

    static PoolState.Worker fromAvro(PoolWorker r) {
        PoolState.Worker w = new PoolState.Worker();
        w.workerId = r.getWorkerId();
        w.pool = r.getPool();
        w.capabilities = r.getCapabilities() == null ? null : event(WorkerCapabilities.class, r.getCapabilities());
        w.status = r.getStatus() == null ? null : PoolState.Status.valueOf(r.getStatus());
        w.reportedStatus = r.getReportedStatus();
        w.lastSeenAt = r.getLastSeenAt();
        w.reportedFreeSlots = r.getReportedFreeSlots();
        w.load = r.getLoad();
        w.price = r.getPrice();
        w.ownedPartitions = new ArrayList<>(r.getOwnedPartitions());
        w.reputation = r.getReputation();
        w.avgLatencyMs = r.getAvgLatencyMs();
        tasks(r.getPending(), w.pending);
        tasks(r.getHeld(), w.held);
        w.expiredLeases = new ArrayList<>(r.getExpiredLeases());
        w.coolingUntil = r.getCoolingUntil();
        w.departed = r.getDeparted();
        w.stakeMicros = r.getStakeMicros();
        return w;
    }

    static PoolJob toAvro(PoolState.Job j) {
        if (j.request != null && j.requestEncoded != j.request) {
            j.requestBytes = bytes(j.request);
            j.requestEncoded = j.request;
        }
        List<PoolReplica> replicas = new ArrayList<>(j.replicas.size());
        for (PoolState.Replica r : j.replicas.values()) {
            replicas.add(new PoolReplica(r.replica, r.attempt, name(r.state), r.workerId, r.assignedAt, r.leaseDeadline,
                    r.partition, r.notBefore, r.reason, r.score, r.explain, r.price, r.minPricePerJob, r.gpuPrice, r.memoryPrice));
        }
        return new PoolJob(j.jobId, j.request == null ? null : ByteBuffer.wrap(j.requestBytes), j.escrowMicros, j.pool,
                name(j.status), j.queuedAt, j.queueKey, j.nextReplica, replicas, new ArrayList<>(j.touched), j.forgetAt,
                j.startedAt, j.traceparent);
    }

    static PoolState.Job fromAvro(PoolJob a) {
        PoolState.Job j = new PoolState.Job();
        j.jobId = a.getJobId();
        j.request = a.getRequest() == null ? null : event(JobRequested.class, a.getRequest());
        j.escrowMicros = a.getEscrowMicros();
        j.pool = a.getPool();
        j.status = a.getStatus() == null ? null : PoolState.JobStatus.valueOf(a.getStatus());
        j.queuedAt = a.getQueuedAt();
        j.queueKey = a.getQueueKey();
        j.nextReplica = a.getNextReplica();
        for (PoolReplica p : a.getReplicas()) {
            PoolState.Replica r = new PoolState.Replica();
            r.replica = p.getReplica();
            r.attempt = p.getAttempt();
            r.state = p.getState() == null ? null : PoolState.ReplicaState.valueOf(p.getState());
            r.workerId = p.getWorkerId();
            r.assignedAt = p.getAssignedAt();
            r.leaseDeadline = p.getLeaseDeadline();
            r.partition = p.getPartition();
            r.notBefore = p.getNotBefore();
            r.reason = p.getReason();
            r.score = p.getScore();
            r.explain = p.getExplain();
            r.price = p.getPrice();
            r.minPricePerJob = p.getMinPricePerJob();
            r.gpuPrice = p.getGpuPrice();
            r.memoryPrice = p.getMemoryPrice();
            j.replicas.put(r.replica, r);
        }
        j.touched.addAll(a.getTouched());
        j.forgetAt = a.getForgetAt();
        j.startedAt = a.getStartedAt();
        j.traceparent = a.getTraceparent();
        return j;
    }

    // ---- pool events (the repartition topic) ----------------------------------------------

    static PoolEvent toAvro(Flow.PoolEvent ev) {
        Object e;
        if (ev instanceof Flow.Admitted a) {
            e = new PoolAdmitted(ByteBuffer.wrap(bytes(a.job())), a.escrowMicros());
        } else if (ev instanceof Flow.Registered r) {
            e = new PoolRegistered(ByteBuffer.wrap(bytes(r.registration())), r.reputation());
        } else if (ev instanceof Flow.Removed r) {
            e = new PoolRemoved(r.workerId());
        } else if (ev instanceof Flow.Beat b) {
            e = new PoolBeat(ByteBuffer.wrap(bytes(b.heartbeat())));
        } else if (ev instanceof Flow.Silent q) {
            e = new PoolSilent(q.workerId());
        } else if (ev instanceof Flow.Reputation r) {
            e = new PoolReputation(r.workerId(), r.reputation(), r.stakeMicros());
        } else if (ev instanceof Flow.Result r) {
            e = new PoolResult(r.taskId(), r.jobId(), r.workerId(), r.replica(), r.attempt(), r.status(), r.durationMs());
        } else if (ev instanceof Flow.Command c) {
            e = new PoolCommand(ByteBuffer.wrap(bytes(c.command())));
        } else {
            throw new SerializationException("not a pool event: " + ev);
        }
        return new PoolEvent(e);
    }

    static Flow.PoolEvent fromAvro(PoolEvent ev) {
        Object e = ev.getEvent();
        if (e instanceof PoolAdmitted a) {
            return new Flow.Admitted(event(JobRequested.class, a.getJob()), a.getEscrowMicros());
        } else if (e instanceof PoolRegistered r) {
            return new Flow.Registered(event(WorkerRegistration.class, r.getRegistration()), r.getReputation());
        } else if (e instanceof PoolRemoved r) {
            return new Flow.Removed(r.getWorkerId());
        } else if (e instanceof PoolBeat b) {
            return new Flow.Beat(event(Heartbeat.class, b.getHeartbeat()));
        } else if (e instanceof PoolSilent q) {
            return new Flow.Silent(q.getWorkerId());
        } else if (e instanceof PoolReputation r) {
            return new Flow.Reputation(r.getWorkerId(), r.getReputation(), r.getStakeMicros());
        } else if (e instanceof PoolResult r) {
            return new Flow.Result(r.getTaskId(), r.getJobId(), r.getWorkerId(), r.getReplica(), r.getAttempt(),
                    r.getStatus(), r.getDurationMs());
        } else if (e instanceof PoolCommand c) {
            return new Flow.Command(event(JobCommand.class, c.getCommand()));
        }
        throw new SerializationException("unknown pool event " + e);
    }

    // ---- parts ----------------------------------------------------------------------------

    private static String name(Enum<?> e) {
        return e == null ? null : e.name();
    }

    private static List<TaskSince> tasks(Map<String, Long> byTask) {
        List<TaskSince> out = new ArrayList<>(byTask.size());
        byTask.forEach((task, at) -> out.add(new TaskSince(task, at)));
        return out;
    }

    private static void tasks(List<TaskSince> from, LinkedHashMap<String, Long> into) {
        for (TaskSince t : from) {
            into.put(t.getTaskId(), t.getAssignedAt());
        }
    }

    /** An embedded event's plain Avro (single-object encoded). */
    @SuppressWarnings("unchecked")
    private static <T extends SpecificRecord> byte[] bytes(T event) {
        return PLAIN.avroSerde((Class<T>) event.getClass()).serializer().serialize("matcher-state", event);
    }

    static <T extends SpecificRecord> T event(Class<T> type, byte[] b) {
        return PLAIN.avroSerde(type).deserializer().deserialize("matcher-state", b);
    }

    private static <T extends SpecificRecord> T event(Class<T> type, ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return event(type, out);
    }
}
