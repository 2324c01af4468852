package io.agora.matcher;

import io.agora.market.Eligibility;
import io.agora.market.Matching;
import io.agora.market.FreeIndex;
import io.agora.market.MatchRequest;
import io.agora.events.CommandType;
import io.agora.events.EntryKind;
import io.agora.events.Heartbeat;
import io.agora.events.JobCommand;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobRequested;
import io.agora.events.JobTerms;
import io.agora.events.JobVerdict;
import io.agora.events.Outcome;
import io.agora.events.RegistrationType;
import io.agora.events.ReputationChanged;
import io.agora.events.TaskAssigned;
import io.agora.events.WorkerRegistration;
import io.agora.market.Postings;
import io.agora.schemas.Topics;
import io.agora.matcher.PoolState.Job;
import io.agora.matcher.PoolState.JobStatus;
import io.agora.matcher.PoolState.Replica;
import io.agora.matcher.PoolState.ReplicaState;
import io.agora.matcher.PoolState.Status;
import io.agora.matcher.PoolState.Worker;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The pool stage, keyed by pool: worker registry, matching, dispatch, leases and the queue.
 * Input: the repartition topic {@code agora-matcher-pool-events-repartition} (admitted jobs,
 * verified registrations and heartbeats, reputation, task results, job commands).
 * Outputs: TaskAssigned to {@code agora.jobs.tasks} (key workerId, a partition the worker owns),
 * JobEvent (QUEUED, ASSIGNED, REASSIGNED, EXPIRED, CANCELLED), JobVerdict and REFUND for jobs
 * that end before any assignment, ReputationChanged (offline, lease expired), and JobCommand
 * REPLICA_FAILED when a replica runs out of attempts, when a requested extra replica will not be
 * placed, and for replicas still open when a running job is forgotten after its deadline.
 *
 * <p>Placement rule: a new job is placed only when all its n replicas find distinct eligible
 * workers at once; otherwise it waits in the queue (higher priority first, then oldest first)
 * and is retried whenever capacity appears and every punctuation, until its queue timeout.
 * Replicas of a running job (reassignments, extra replicas) are placed one by one as workers
 * become available.
 *
 * <p>Stores {@value #WORKERS} (key {@code pool|workerId}) and {@value #JOBS} (key jobId) are
 * the durable copy; the processor keeps both in memory too (write-through), so matching and the
 * wall-clock punctuation do not deserialise the registry every time. Writes are per changed key
 * and only when something changed: a drain that cannot place a queued job does not write it, a
 * heartbeat writes its worker and the jobs whose lease it extended. Per-event work does not grow
 * with the pool: the workers with a free slot are indexed ({@code free}), so "is there capacity"
 * is O(1), matching looks only at those workers, and a new job is not matched at all while fewer
 * workers are free than it has replicas.
 */
final class PoolMarketProcessor implements Processor<String, Flow.PoolEvent, String, Flow> {
    static final String WORKERS = "matcher-pool-workers";
    static final String JOBS = "matcher-pool-jobs";
    static final String H_PARTITION = "agora.task.partition";
    private static final long FORGET_AFTER_MS = 24L * 3600 * 1000;
    private static final Logger log = LoggerFactory.getLogger(PoolMarketProcessor.class);

    private final MatcherConfig cfg;
    private ProcessorContext<String, Flow> ctx;
    private KeyValueStore<String, Worker> workerStore;
    private KeyValueStore<String, Job> jobStore;
    private final Map<String, Map<String, Worker>> workers = new HashMap<>();
    /**
     * Per pool, the workers that are matchable and have a free slot (kept by {@link #saveWorker}):
     * the only ones {@link Eligibility} can accept, so matching looks at these alone and "is there
     * a free slot" is O(1) on every heartbeat. Each pool's {@link FreeIndex} groups them by machine
     * shape, each group in ascending price order (then worker id) of the view the worker was indexed
     * with ({@link Worker#freeKey}), so matching opens only the groups that can compete and stops
     * early inside them; a change re-indexes one worker, never the pool.
     */
    private final Map<String, FreeIndex> free = new HashMap<>();
    private final Map<String, Job> jobs = new HashMap<>();
    private final TreeMap<String, String> queue = new TreeMap<>();
    private long now;

    PoolMarketProcessor(MatcherConfig cfg) {
        this.cfg = cfg;
    }

    @Override
    public void init(ProcessorContext<String, Flow> context) {
        this.ctx = context;
        this.workerStore = context.getStateStore(WORKERS);
        this.jobStore = context.getStateStore(JOBS);
        workers.clear();
        free.clear();
        jobs.clear();
        queue.clear();
        try (KeyValueIterator<String, Worker> it = workerStore.all()) {
            while (it.hasNext()) {
                Worker w = it.next().value;
                workers.computeIfAbsent(w.pool, p -> new HashMap<>()).put(w.workerId, w);
                indexFree(w);
            }
        }
        try (KeyValueIterator<String, Job> it = jobStore.all()) {
            while (it.hasNext()) {
                KeyValue<String, Job> kv = it.next();
                jobs.put(kv.key, kv.value);
                if (kv.value.queueKey != null) {
                    queue.put(kv.value.queueKey, kv.key);
                }
            }
        }
        context.schedule(Duration.ofMillis(cfg.punctuateMs()), PunctuationType.WALL_CLOCK_TIME, this::punctuate);
    }

    @Override
    public void process(Record<String, Flow.PoolEvent> record) {
        now = ctx.currentSystemTimeMs();
        String pool = record.key();
        Flow.PoolEvent ev = record.value();
        if (ev instanceof Flow.Admitted a) {
            admitted(pool, a);
        } else if (ev instanceof Flow.Registered r) {
            registered(pool, r);
        } else if (ev instanceof Flow.Removed r) {
            Worker w = removeWorker(pool, r.workerId());
            if (w != null) {
                failAllOf(w, "worker left the pool");
            }
        } else if (ev instanceof Flow.Beat b) {
            heartbeat(pool, b.heartbeat());
        } else if (ev instanceof Flow.Reputation r) {
            Worker w = worker(pool, r.workerId());
            if (w != null) {
                w.reputation = r.reputation();
                saveWorker(w);
            }
        } else if (ev instanceof Flow.Result r) {
            result(pool, r);
        } else if (ev instanceof Flow.Command c) {
            command(pool, c.command());
        }
    }

    // ---- jobs -------------------------------------------------------------------------------

    private void admitted(String pool, Flow.Admitted a) {
        JobRequested req = a.job();
        Job job = jobs.get(req.getJobId());
        if (job != null && job.status != JobStatus.CANCEL_PENDING) {
            log.info("job {} already known to the pool stage, ignoring", req.getJobId());
            return;
        }
        boolean cancelled = job != null;
        job = new Job();
        job.jobId = req.getJobId();
        job.request = req;
        job.escrowMicros = a.escrowMicros();
        job.pool = pool;
        job.status = JobStatus.QUEUED;
        job.queuedAt = now;
        for (int i = 0; i < req.getRedundancy(); i++) {
            Replica r = new Replica();
            r.replica = i;
            job.replicas.put(i, r);
        }
        job.nextReplica = req.getRedundancy();
        if (cancelled) {
            terminate(job, Outcome.CANCELLED, JobEventType.CANCELLED, "cancelled before assignment");
            return;
        }
        tryPlace(job, true);
        if (job.status == JobStatus.QUEUED) {
            emit(job.jobId, Topics.JOB_EVENTS.name(), event(job, JobEventType.QUEUED,
                    "waiting for " + req.getRedundancy() + " eligible workers", null, -1, -1));
        }
    }

    /**
     * Places the job's waiting replicas it can; keeps the job queued while some still wait. The
     * job is saved when it changed here or when {@code dirty} (the caller changed it before): a
     * queued job that still cannot be placed is not written again (a drain tries every queued job).
     */
    private void tryPlace(Job job, boolean dirty) {
        if (job.status != JobStatus.QUEUED && job.status != JobStatus.RUNNING) {
            if (dirty) {
                saveJob(job);
            }
            return;
        }
        boolean changed = dirty;
        List<Replica> waiting = job.waiting(now);
        boolean initial = job.status == JobStatus.QUEUED;
        // all-or-nothing needs as many distinct free workers as waiting replicas; eligible workers
        // are a subset of the free ones, so with fewer there is nothing to match
        int needed = initial ? waiting.size() : 1;
        if (!waiting.isEmpty() && freeCount(job.pool) >= needed) {
            MatchRequest req = MatchRequest.of(job.request, waiting.size(), job.touched, cfg.allowlist(job.pool));
            List<Matching.Choice> choices = Matching.best(req, freeIndex(job.pool), cfg.weights());
            if (!(initial && choices.size() < waiting.size())) {
                for (int i = 0; i < Math.min(choices.size(), waiting.size()); i++) {
                    assign(job, waiting.get(i), choices.get(i));
                    changed = true;
                }
                if (job.status != JobStatus.RUNNING) {
                    job.status = JobStatus.RUNNING;
                    changed = true;
                }
            }
        }
        String queueKey = job.queueKey;
        if (job.hasWaiting()) {
            enqueue(job);
        } else {
            dequeue(job);
        }
        if (changed || !java.util.Objects.equals(queueKey, job.queueKey)) {
            saveJob(job);
        }
    }

    private void assign(Job job, Replica r, Matching.Choice choice) {
        Worker w = worker(job.pool, choice.worker().workerId());
        String taskId = r.taskId(job.jobId);
        r.workerId = w.workerId;
        r.assignedAt = now;
        r.leaseDeadline = Leases.initialDeadline(now, cfg.leaseMs());
        r.partition = Matching.partitionFor(taskId, w.ownedPartitions);
        r.state = ReplicaState.LEASED;
        r.score = choice.score();
        r.explain = choice.explain();
        r.price = w.price;
        r.minPricePerJob = w.capabilities == null ? 0 : w.capabilities.getMinPricePerJobMicros();
        job.touched.add(w.workerId);
        w.pending.put(taskId, now);
        saveWorker(w);
        sendTask(job, r);
        if (r.reason == null) {
            emit(job.jobId, Topics.JOB_EVENTS.name(), event(job, JobEventType.ASSIGNED, choice.explain(), w.workerId,
                    r.replica, r.attempt));
        } else {
            emit(job.jobId, Topics.JOB_EVENTS.name(), event(job, JobEventType.REASSIGNED, r.reason, w.workerId,
                    r.replica, r.attempt));
            r.reason = null;
        }
    }

    private void sendTask(Job job, Replica r) {
        JobRequested q = job.request;
        Instant submitted = q.getSubmittedAt();
        JobTerms terms = JobTerms.newBuilder()
                .setClientId(q.getClientId()).setPool(job.pool).setRedundancy(q.getRedundancy())
                .setQuorum(q.getQuorum()).setStrategy(q.getStrategy()).setMaxTotalResults(q.getMaxTotalResults())
                .setMaxPricePerCpuSecondMicros(q.getRequirements().getMaxPricePerCpuSecondMicros())
                .setEscrowMicros(job.escrowMicros).setSubmittedAt(submitted)
                .setDeadline(submitted.plusMillis(q.getDeadlineMs())).build();
        TaskAssigned task = TaskAssigned.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setTaskId(r.taskId(job.jobId)).setJobId(job.jobId)
                .setWorkerId(r.workerId).setReplica(r.replica).setAttempt(r.attempt).setSpec(q.getSpec())
                .setTerms(terms).setPricePerCpuSecondMicros(r.price).setMinPricePerJobMicros(r.minPricePerJob)
                .setLeaseDeadline(Instant.ofEpochMilli(r.leaseDeadline)).setScore(r.score)
                .setExplain(r.explain == null ? "" : r.explain).setAssignedAt(Instant.ofEpochMilli(r.assignedAt))
                .build();
        RecordHeaders headers = new RecordHeaders();
        headers.add(H_PARTITION, Integer.toString(r.partition).getBytes(StandardCharsets.UTF_8));
        ctx.forward(new Record<String, Flow>(r.workerId,
                new Flow.Emit(Topics.TASKS.name(), task, null, r.partition), now, headers));
    }

    /** Ends a job the matcher still owns (never assigned): whole escrow back, verdict and terminal event. */
    private void terminate(Job job, Outcome outcome, JobEventType type, String reason) {
        JobRequested q = job.request;
        String clientId = q.getClientId();
        if (job.escrowMicros > 0) {
            emit(clientId, Topics.LEDGER.name(), Postings.refund(job.jobId, clientId, job.escrowMicros, reason, now));
        }
        emit(job.jobId, Topics.VERDICTS.name(), JobVerdict.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setJobId(job.jobId).setClientId(clientId)
                .setOutcome(outcome).setCostMicros(0).setRefundMicros(job.escrowMicros).setReason(reason)
                .setSubmittedAt(q.getSubmittedAt()).setDecidedAt(Instant.ofEpochMilli(now)).build());
        emit(job.jobId, Topics.JOB_EVENTS.name(), event(job, type, reason, null, -1, -1));
        for (Replica r : job.replicas.values()) {
            r.state = ReplicaState.FAILED;
        }
        job.status = JobStatus.DONE;
        job.forgetAt = now + FORGET_AFTER_MS;
        dequeue(job);
        saveJob(job);
    }

    /** The replica's attempt failed (lease expired, worker offline or gone, misrouted): retry or give up. */
    private void fail(Job job, Replica r, String reason) {
        Worker w = r.workerId == null ? null : worker(job.pool, r.workerId);
        if (w != null && w.pending.remove(r.taskId(job.jobId)) != null) {
            saveWorker(w);
        }
        int next = r.attempt + 1;
        if (!Leases.mayRetry(next, job.maxAttempts(cfg.defaultMaxAttempts()))) {
            r.state = ReplicaState.FAILED;
            replicaFailed(job.jobId, job.request.getClientId(), job.pool, r.replica, new ArrayList<>(job.touched),
                    reason + " after " + next + " attempts");
        } else {
            r.attempt = next;
            r.state = ReplicaState.WAITING;
            r.workerId = null;
            r.partition = -1;
            r.notBefore = Leases.retryAt(now, next, cfg.retryBackoffMs());
            r.reason = reason;
        }
        if (job.hasWaiting()) {
            enqueue(job);
        }
        saveJob(job);
    }

    private void command(String pool, JobCommand c) {
        Job job = jobs.get(c.getJobId());
        if (c.getType() == CommandType.CANCEL) {
            if (job == null) {
                job = new Job();
                job.jobId = c.getJobId();
                job.pool = pool;
                job.status = JobStatus.CANCEL_PENDING;
                job.forgetAt = now + FORGET_AFTER_MS;
                saveJob(job);
            } else if (job.status == JobStatus.QUEUED) {
                terminate(job, Outcome.CANCELLED, JobEventType.CANCELLED,
                        c.getReason() == null ? "cancelled by client" : c.getReason());
            } else if (job.status == JobStatus.RUNNING) {
                // the verifier owns the money now; the matcher only stops placing replicas
                job.status = JobStatus.DONE;
                job.forgetAt = Math.max(now, job.deadline());
                dequeue(job);
                saveJob(job);
            }
        } else if (c.getType() == CommandType.REQUEST_REPLICAS) {
            requestReplicas(pool, job, c);
        }
    }

    /**
     * REQUEST_REPLICAS from the verifier: place replicas {@code replica .. replica+count-1} (the
     * verifier numbers them; {@code replica} -1, from an older verifier, means "the next numbers").
     * Replica numbers stay below {@code maxTotalResults}, the bound the escrow covers. A replica
     * already known is not placed twice (a redelivered request). Every requested replica the
     * matcher will not run (job unknown, forgotten, cancelled, or number at or past the bound) is
     * answered at once with REPLICA_FAILED, so the verifier never waits for a replica that does
     * not exist.
     */
    private void requestReplicas(String pool, Job job, JobCommand c) {
        int from = c.getReplica() >= 0 ? c.getReplica() : job == null ? -1 : job.nextReplica;
        int count = Math.max(0, c.getCount());
        if (job == null || job.status != JobStatus.RUNNING || from < 0) {
            log.info("REQUEST_REPLICAS for job {} not running here, answered REPLICA_FAILED", c.getJobId());
            for (int i = 0; from >= 0 && i < count; i++) {
                replicaFailed(c.getJobId(), c.getClientId(), pool, from + i, List.of(), "job not running in the matcher");
            }
            return;
        }
        job.touched.addAll(c.getExcludeWorkers());
        int bound = job.request.getMaxTotalResults();
        for (int n = from; n < from + count; n++) {
            if (job.replicas.containsKey(n)) {
                continue;
            }
            if (n >= bound) {
                replicaFailed(job.jobId, job.request.getClientId(), job.pool, n, List.of(),
                        "replica " + n + " is beyond maxTotalResults " + bound);
                continue;
            }
            Replica r = new Replica();
            r.replica = n;
            job.replicas.put(n, r);
        }
        job.nextReplica = Math.max(job.nextReplica, from + count);
        tryPlace(job, true);
    }

    private void replicaFailed(String jobId, String clientId, String pool, int replica, List<String> exclude,
                               String reason) {
        emit(jobId, Topics.JOB_COMMANDS.name(), JobCommand.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setJobId(jobId)
                .setClientId(clientId).setPool(pool).setType(CommandType.REPLICA_FAILED)
                .setReplica(replica).setExcludeWorkers(new ArrayList<>(exclude))
                .setReason(reason).setTimestamp(Instant.ofEpochMilli(now)).build());
    }

    // ---- workers ----------------------------------------------------------------------------

    private void registered(String pool, Flow.Registered ev) {
        WorkerRegistration reg = ev.registration();
        if (reg.getType() == RegistrationType.DEREGISTERED) {
            Worker w = removeWorker(pool, reg.getWorkerId());
            if (w != null) {
                failAllOf(w, "worker deregistered");
            }
            return;
        }
        Worker w = worker(pool, reg.getWorkerId());
        if (w == null) {
            w = new Worker();
            w.workerId = reg.getWorkerId();
            w.pool = pool;
            w.reportedFreeSlots = reg.getCapabilities().getMaxConcurrent();
        }
        w.capabilities = reg.getCapabilities();
        w.price = reg.getCapabilities().getPricePerCpuSecondMicros();
        w.reputation = ev.reputation();
        w.status = Status.ONLINE;
        w.lastSeenAt = now;
        saveWorker(w);
        drain(pool);
    }

    private void heartbeat(String pool, Heartbeat hb) {
        Worker w = worker(pool, hb.getWorkerId());
        if (w == null) {
            return;
        }
        w.lastSeenAt = now;
        w.reportedStatus = hb.getStatus().name();
        w.reportedFreeSlots = hb.getFreeSlots();
        w.load = hb.getLoad();
        w.price = hb.getPricePerCpuSecondMicros();
        w.ownedPartitions = new ArrayList<>(hb.getOwnedPartitions());
        w.status = "DRAINING".equals(w.reportedStatus) ? Status.DRAINING : Status.ONLINE;
        Set<String> inFlight = new HashSet<>(hb.getInFlightTaskIds());
        long stale = now - cfg.leaseMs() - cfg.workerGraceMs();
        w.pending.entrySet().removeIf(e -> inFlight.contains(e.getKey()) || e.getValue() < stale);
        saveWorker(w);
        long hbAt = hb.getTimestamp().toEpochMilli();
        for (String taskId : inFlight) {
            Job job = jobs.get(Leases.jobOf(taskId));
            if (job == null || job.status != JobStatus.RUNNING) {
                continue;
            }
            boolean renewed = false;
            for (Replica r : job.replicas.values()) {
                if (r.state == ReplicaState.LEASED && w.workerId.equals(r.workerId) && taskId.equals(r.taskId(job.jobId))) {
                    long deadline = Leases.renewed(r.leaseDeadline, hbAt, cfg.leaseMs());
                    renewed |= deadline != r.leaseDeadline;
                    r.leaseDeadline = deadline;
                }
            }
            if (renewed) {
                saveJob(job);
            }
        }
        drain(pool);
    }

    private void result(String pool, Flow.Result res) {
        boolean handedBack = "HANDED_BACK".equals(res.status());
        Worker sender = worker(pool, res.workerId());
        if (!handedBack && sender != null && sender.pending.remove(res.taskId()) != null) {
            saveWorker(sender);
        }
        Job job = jobs.get(res.jobId());
        Replica r = job == null ? null : job.replicas.get(res.replica());
        if (job == null || job.status != JobStatus.RUNNING || r == null || r.state != ReplicaState.LEASED
                || r.attempt != res.attempt()) {
            drain(pool);
            return;
        }
        if (handedBack) {
            reroute(job, r);
        } else if (res.workerId().equals(r.workerId)) {
            r.state = ReplicaState.FINISHED;
            if (sender != null) {
                double sample = Math.max(0, now - r.assignedAt);
                sender.avgLatencyMs = sender.avgLatencyMs < 0 ? sample : 0.8 * sender.avgLatencyMs + 0.2 * sample;
                saveWorker(sender);
            }
            saveJob(job);
        }
        drain(pool);
    }

    /** A task reached a worker it was not for: send it again to its worker's current partitions, or move it. */
    private void reroute(Job job, Replica r) {
        Worker intended = worker(job.pool, r.workerId);
        if (intended != null && intended.matchable() && !intended.ownedPartitions.isEmpty()) {
            List<Integer> others = new ArrayList<>(intended.ownedPartitions);
            others.remove(Integer.valueOf(r.partition));
            List<Integer> choose = others.isEmpty() ? intended.ownedPartitions : others;
            r.partition = Matching.partitionFor(r.taskId(job.jobId), choose);
            r.assignedAt = now;
            r.leaseDeadline = Leases.initialDeadline(now, cfg.leaseMs());
            sendTask(job, r);
            emit(job.jobId, Topics.JOB_EVENTS.name(), event(job, JobEventType.REASSIGNED, "misrouted", r.workerId,
                    r.replica, r.attempt));
            saveJob(job);
        } else {
            fail(job, r, "misrouted");
            tryPlace(job, false);
        }
    }

    /**
     * The matcher stops tracking a running job: every replica still waiting or leased is reported
     * REPLICA_FAILED (for a decided job the verifier ignores it; for a dispute it ends the replica).
     */
    private void giveUp(Job job, String reason) {
        for (Replica r : job.replicas.values()) {
            if (r.state == ReplicaState.WAITING || r.state == ReplicaState.LEASED) {
                Worker w = r.workerId == null ? null : worker(job.pool, r.workerId);
                if (w != null && w.pending.remove(r.taskId(job.jobId)) != null) {
                    saveWorker(w);
                }
                r.state = ReplicaState.FAILED;
                replicaFailed(job.jobId, job.request.getClientId(), job.pool, r.replica, List.of(), reason);
            }
        }
    }

    private void failAllOf(Worker w, String reason) {
        for (Job job : new ArrayList<>(jobs.values())) {
            if (job.status != JobStatus.RUNNING || !job.pool.equals(w.pool)) {
                continue;
            }
            for (Replica r : job.replicas.values()) {
                if (r.state == ReplicaState.LEASED && w.workerId.equals(r.workerId)) {
                    fail(job, r, reason);
                }
            }
        }
    }

    // ---- time -------------------------------------------------------------------------------

    void punctuate(long wallClock) {
        now = wallClock;
        for (Map<String, Worker> pool : workers.values()) {
            for (Worker w : new ArrayList<>(pool.values())) {
                if (w.status != Status.OFFLINE && w.lastSeenAt + cfg.workerGraceMs() < now) {
                    w.status = Status.OFFLINE;
                    saveWorker(w);
                    reputation(w.workerId, cfg.offlinePenalty(), "offline", null);
                    failAllOf(w, "worker offline");
                }
            }
        }
        for (Job job : new ArrayList<>(jobs.values())) {
            switch (job.status) {
                case DONE, CANCEL_PENDING -> {
                    if (job.forgetAt <= now) {
                        forget(job);
                    }
                }
                case QUEUED -> {
                    long timeoutAt = job.request.getSubmittedAt().toEpochMilli() + job.request.getQueueTimeoutMs();
                    if (timeoutAt <= now) {
                        terminate(job, Outcome.EXPIRED, JobEventType.EXPIRED, "queue timeout");
                    }
                }
                case RUNNING -> {
                    if (job.deadline() + cfg.workerGraceMs() < now) {
                        giveUp(job, "job deadline passed");
                        forget(job);
                        continue;
                    }
                    for (Replica r : job.replicas.values()) {
                        if (r.state == ReplicaState.LEASED && Leases.expired(r.leaseDeadline, now)) {
                            reputation(r.workerId, cfg.leaseExpiredPenalty(), "lease expired", job.jobId);
                            fail(job, r, "lease expired");
                        }
                    }
                }
            }
        }
        Set<String> pools = new LinkedHashSet<>();
        for (String key : queue.keySet()) {
            pools.add(key.substring(0, key.indexOf('|')));
        }
        pools.forEach(this::drain);
    }

    /** Retries the pool's queued jobs, higher priority first, then oldest first. */
    private void drain(String pool) {
        if (freeCount(pool) == 0) {
            return;
        }
        Map<String, String> queued = queue.subMap(pool + "|", pool + "|\uffff");
        if (queued.isEmpty()) {
            return;
        }
        List<String> ids = new ArrayList<>(queued.values());
        for (String id : ids) {
            Job job = jobs.get(id);
            if (job != null) {
                tryPlace(job, false);
                // no free slot left: no queued job can be placed (Eligibility)
                if (freeCount(pool) == 0) {
                    return;
                }
            }
        }
    }

    /** How many workers of the pool are matchable with a free slot. */
    private int freeCount(String pool) {
        FreeIndex f = free.get(pool);
        return f == null ? 0 : f.size();
    }

    // ---- state ------------------------------------------------------------------------------

    /** The pool's free workers (matching can choose no other); views are built only when a worker changed. */
    private FreeIndex freeIndex(String pool) {
        FreeIndex f = free.get(pool);
        return f == null ? new FreeIndex() : f;
    }

    /** (Re)indexes the worker under its current view's price: out first under the key it went in with. */
    private void indexFree(Worker w) {
        unindexFree(w);
        if (w.hasFreeSlot()) {
            w.freeKey = w.view();
            free.computeIfAbsent(w.pool, p -> new FreeIndex()).add(w.freeKey);
        }
    }

    private void unindexFree(Worker w) {
        if (w.freeKey != null) {
            FreeIndex f = free.get(w.pool);
            if (f != null) {
                f.remove(w.freeKey);
            }
            w.freeKey = null;
        }
    }

    private Worker worker(String pool, String workerId) {
        Map<String, Worker> ws = workers.get(pool);
        return ws == null ? null : ws.get(workerId);
    }

    private Worker removeWorker(String pool, String workerId) {
        Map<String, Worker> ws = workers.get(pool);
        Worker w = ws == null ? null : ws.remove(workerId);
        if (w != null) {
            unindexFree(w);
            workerStore.delete(pool + "|" + workerId);
        }
        return w;
    }

    private void saveWorker(Worker w) {
        w.changed();
        Worker old = workers.computeIfAbsent(w.pool, p -> new HashMap<>()).put(w.workerId, w);
        if (old != null && old != w) {
            unindexFree(old);
        }
        indexFree(w);
        workerStore.put(w.pool + "|" + w.workerId, w);
    }

    private void saveJob(Job job) {
        jobs.put(job.jobId, job);
        jobStore.put(job.jobId, job);
    }

    private void forget(Job job) {
        dequeue(job);
        jobs.remove(job.jobId);
        jobStore.delete(job.jobId);
    }

    private void enqueue(Job job) {
        if (job.queueKey == null) {
            long rank = (long) Integer.MAX_VALUE - job.request.getPriority();
            job.queueKey = String.format("%s|%010d|%013d|%s", job.pool, rank, job.queuedAt, job.jobId);
            queue.put(job.queueKey, job.jobId);
        }
    }

    private void dequeue(Job job) {
        if (job.queueKey != null) {
            queue.remove(job.queueKey);
            job.queueKey = null;
        }
    }

    private void reputation(String workerId, int delta, String reason, String jobId) {
        emit(workerId, Topics.REPUTATION.name(), ReputationChanged.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setWorkerId(workerId).setDelta(delta)
                .setReason(reason).setJobId(jobId).setTimestamp(Instant.ofEpochMilli(now)).build());
    }

    private void emit(String key, String topic, SpecificRecord value) {
        ctx.forward(new Record<>(key, Flow.Emit.of(topic, value), now));
    }

    private JobEvent event(Job job, JobEventType type, String reason, String workerId, int replica, int attempt) {
        return JobEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(job.jobId)
                .setClientId(job.request.getClientId()).setType(type).setReason(reason).setWorkerId(workerId)
                .setReplica(replica).setAttempt(attempt).setPool(job.pool).setEscrowMicros(job.escrowMicros)
                .setTimestamp(Instant.ofEpochMilli(now)).build();
    }
}
