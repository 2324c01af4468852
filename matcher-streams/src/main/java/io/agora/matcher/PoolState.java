package io.agora.matcher;

import io.agora.market.Eligibility;
import io.agora.market.WorkerView;
import io.agora.events.JobRequested;
import io.agora.events.WorkerCapabilities;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The pool stage's state records (stores {@value PoolMarketProcessor#WORKERS} and {@value PoolMarketProcessor#JOBS}),
 * stored as the Avro records of {@link StateSerdes}: a new stored field here needs a field (with a default) in
 * {@code schemas/src/main/avro/matcher-state.avsc} and its conversion there.
 */
final class PoolState {
    private PoolState() {
    }

    enum Status { ONLINE, OFFLINE, DRAINING }

    /** One worker of a pool, as the registry knows it. */
    static final class Worker {
        String workerId;
        String pool;
        WorkerCapabilities capabilities;
        Status status = Status.ONLINE;
        /** Heartbeat status name (READY, FULL, DRAINING, DEGRADED), null before the first heartbeat. */
        String reportedStatus;
        long lastSeenAt;
        int reportedFreeSlots;
        double load;
        long price;
        List<Integer> ownedPartitions = new ArrayList<>();
        long reputation;
        double avgLatencyMs = -1;
        /**
         * Tasks given to the worker and not yet seen in its in-flight list or ended: task id to assignment
         * time. Its last claim of free slots did not count them yet.
         */
        LinkedHashMap<String, Long> pending = new LinkedHashMap<>();
        /**
         * Tasks the matcher leased to the worker and that have not ended (result, lease expired or failed,
         * job given up), whatever the worker says: task id to assignment time.
         */
        LinkedHashMap<String, Long> held = new LinkedHashMap<>();
        /** Matcher times of the worker's recent expired leases, oldest first. */
        List<Long> expiredLeases = new ArrayList<>();
        /** While not 0, the worker is cooling down and is not matched until this time. */
        long coolingUntil;
        /** Deregistered or moved while cooling down: kept (OFFLINE) only until the cool-down ends. */
        boolean departed;
        /** The bond the gate held for the worker at its latest registration (worker format version 3; 0 in older records). */
        long stakeMicros;
        /**
         * Not stored: the image digests the latest heartbeat said the worker holds (soft state: the next
         * heartbeat, a few seconds away, brings them back after a restart).
         */
        Set<String> imageDigests = Set.of();
        /**
         * Not stored: the tasks the latest heartbeat listed in flight, whose slots its claim of free slots
         * left out (after a restart none: freed slots then wait for the next heartbeat, as before).
         */
        Set<String> claimedInFlight = new LinkedHashSet<>();

        /** Not stored: tasks the worker may hold at once ({@link PoolMarket} sets it from its registration and the pool's cap). */
        int maxSlots;

        /** Not stored: the view of the current state, dropped by {@link #changed()}. */
        private WorkerView view;
        /** Not stored: {@link #capabilities} as plain Avro binary, and the object it was encoded from. */
        byte[] capabilitiesBytes;
        WorkerCapabilities capabilitiesEncoded;
        /** Not stored: the view the worker is indexed under among the pool's free workers, null when not indexed. */
        WorkerView freeKey;

        /** The worker listed the task in flight (it is held and no longer pending): it took it up. */
        boolean tookUp(String taskId) {
            return held.containsKey(taskId) && !pending.containsKey(taskId);
        }

        boolean matchable() {
            return status == Status.ONLINE && WorkerView.acceptsWork(reportedStatus) && coolingUntil == 0;
        }

        /**
         * Free slots as the matcher allows them: what the worker last claimed less the tasks given since,
         * and never more than its cap less the tasks the matcher knows it holds.
         */
        int freeSlots() {
            return Math.min(reportedFreeSlots - pending.size(), maxSlots - held.size());
        }

        /** Matchable with a free slot: the only workers matching can choose ({@link Eligibility}). */
        boolean hasFreeSlot() {
            return matchable() && freeSlots() > 0;
        }

        /** Must be called after every change of the worker's fields ({@link PoolRegistry#put} does). */
        void changed() {
            view = null;
        }

        WorkerView view() {
            WorkerView v = view;
            if (v == null) {
                v = new WorkerView(workerId, pool, matchable(), capabilities, price,
                        freeSlots(), reputation, ownedPartitions, load, avgLatencyMs, stakeMicros, imageDigests);
                view = v;
            }
            return v;
        }
    }

    enum JobStatus { QUEUED, RUNNING, DONE, CANCEL_PENDING }

    enum ReplicaState { WAITING, LEASED, FINISHED, FAILED }

    /** One replica of a job and its current attempt. */
    static final class Replica {
        int replica;
        int attempt;
        ReplicaState state = ReplicaState.WAITING;
        String workerId;
        long assignedAt;
        long leaseDeadline;
        int partition = -1;
        long notBefore;
        /** Why the current attempt is a reassignment (null for the first placement). */
        String reason;
        double score;
        String explain;
        long price;
        /** The worker's per-job minimum at assignment. */
        long minPricePerJob;
        /** The worker's GPU-second and GiB-second prices at assignment, within the job's ceilings. */
        long gpuPrice;
        long memoryPrice;

        String taskId(String jobId) {
            return Leases.taskId(jobId, replica, attempt);
        }
    }

    /** A job the pool stage owns or tracks. */
    static final class Job {
        String jobId;
        JobRequested request;
        long escrowMicros;
        String pool;
        JobStatus status;
        long queuedAt;
        String queueKey;
        int nextReplica;
        TreeMap<Integer, Replica> replicas = new TreeMap<>();
        /** Every worker that ever held or was excluded from a replica: never given another one. */
        Set<String> touched = new LinkedHashSet<>();
        long forgetAt = Long.MAX_VALUE;
        /** When a worker first listed one of the job's tasks in a heartbeat (JobEvent STARTED); 0 before. */
        long startedAt;
        /**
         * The W3C {@code traceparent} of the job's {@code matching} span when it arrived, so that what
         * happens to it later (placed from the queue on a tick or a beat) continues its trace; null when
         * it came without one (null in older records).
         */
        String traceparent;
        /**
         * Not stored: since when, by the matcher's clock, no registered worker of the pool could ever run the
         * queued job (0: one could); {@link PoolMarket} ends it after the pool's grace.
         */
        long unmatchedSince;
        /** Not stored: {@link #request} as plain Avro binary, and the object it was encoded from. */
        byte[] requestBytes;
        JobRequested requestEncoded;
        /** Not stored: what matching reads of {@link #request}, once computed ({@link PoolMarket}'s drain). */
        io.agora.market.MatchRequest.Shape shape;

        long deadline() {
            return request.getSubmittedAt().toEpochMilli() + request.getDeadlineMs();
        }

        int maxAttempts(int fallback) {
            return request.getMaxAttempts() > 0 ? request.getMaxAttempts() : fallback;
        }

        /** The replicas that may be placed at {@code now}: waiting, their retry time reached. */
        List<Replica> waiting(long now) {
            List<Replica> out = new ArrayList<>();
            for (Replica r : replicas.values()) {
                if (placeable(r, now)) {
                    out.add(r);
                }
            }
            return out;
        }

        /** How many {@link #waiting} replicas there are, without listing them. */
        int waitingCount(long now) {
            int n = 0;
            for (Replica r : replicas.values()) {
                if (placeable(r, now)) {
                    n++;
                }
            }
            return n;
        }

        private static boolean placeable(Replica r, long now) {
            return r.state == ReplicaState.WAITING && r.notBefore <= now;
        }

        boolean hasWaiting() {
            for (Replica r : replicas.values()) {
                if (r.state == ReplicaState.WAITING) {
                    return true;
                }
            }
            return false;
        }

        Map<Integer, Replica> replicas() {
            return replicas;
        }
    }
}
