package io.agora.matcher;

import io.agora.events.CommandType;
import io.agora.events.Heartbeat;
import io.agora.events.JobCommand;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobRequested;
import io.agora.events.Outcome;
import io.agora.events.RegistrationType;
import io.agora.events.WorkerRegistration;
import io.agora.market.Eligibility;
import io.agora.market.Matching;
import io.agora.market.MatchRequest;
import io.agora.market.Postings;
import io.agora.market.Pricing;
import io.agora.market.WorkerView;
import io.agora.matcher.PoolState.Job;
import io.agora.matcher.PoolState.JobStatus;
import io.agora.matcher.PoolState.Replica;
import io.agora.matcher.PoolState.ReplicaState;
import io.agora.matcher.PoolState.Status;
import io.agora.matcher.PoolState.Worker;
import io.agora.schemas.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * One pool's market, as a state machine: its worker registry ({@link PoolRegistry}), its jobs and
 * their replicas, and the queue. It takes an input ({@link #on}: an admitted job, a registration,
 * a heartbeat, a reputation, a task result, a job command) or a tick of the clock ({@link #tick}),
 * with the time, and returns its {@link Effects}: the records to emit and the state entries that
 * changed. The rules are the market's small classes: {@link Matching} (with {@link io.agora.market.Eligibility}
 * and {@link io.agora.market.Scoring}) chooses workers, {@link Leases} times leases and retries.
 *
 * <p>Placement: a new job is placed only when all its n replicas find distinct eligible workers at
 * once; otherwise it waits in the queue (higher priority first, then oldest first) and is retried
 * whenever capacity appears and on every tick, until its queue timeout. Replicas of a running job
 * (reassignments, extra replicas) are placed one by one as workers become available. A new job is
 * not matched at all while fewer workers are free than it has replicas.
 *
 * <p>A tick takes silent workers offline (their leases fail), expires leases, times out queued jobs,
 * ends queued jobs no registered worker could ever run ({@link #endIfUnmatched}), gives up running jobs
 * past their deadline, forgets ended jobs and retries the queue. Behind the matcher's worker gate
 * ({@link #behindGate}) the gate judges silence instead ({@link Flow.Silent}).
 */
final class PoolMarket {
    static final long FORGET_AFTER_MS = 24L * 3600 * 1000;
    private static final Logger log = LoggerFactory.getLogger(PoolMarket.class);

    /**
     * What one input did: the records to emit, in order, and the entries to write (workers by id,
     * jobs by id; a removed worker or forgotten job is deleted, never also written).
     */
    record Effects(List<Emitted> records, List<Worker> savedWorkers, List<String> removedWorkers,
                   List<Job> savedJobs, List<String> forgottenJobs) {

        /** A record for a market topic; {@code partition} is set for tasks only (a partition the worker owns). */
        record Emitted(String topic, String key, SpecificRecord value, Integer partition) {
        }

        /** Topics whose records another service waits on: tasks (workers), verdicts and refunds, REPLICA_FAILED (verifier). */
        private static final Set<String> AWAITED = Set.of(Topics.TASKS.name(), Topics.VERDICTS.name(),
                Topics.LEDGER.name(), Topics.JOB_COMMANDS.name());

        boolean isEmpty() {
            return records.isEmpty() && savedWorkers.isEmpty() && removedWorkers.isEmpty() && savedJobs.isEmpty()
                    && forgottenJobs.isEmpty();
        }

        /**
         * Whether someone waits on these effects, so they should be committed at once rather than at the
         * commit interval; job events and reputation changes alone wait for the interval.
         */
        boolean awaited() {
            return records.stream().anyMatch(e -> AWAITED.contains(e.topic()));
        }
    }

    private final String pool;
    private final MatcherConfig cfg;
    /**
     * Whether the worker gate judges silence ({@link #behindGate}): then a worker is alive until a
     * {@link Flow.Silent} says otherwise, and the ticks leave its last heartbeat's age alone.
     */
    private final boolean silenceFromGate;
    private final PoolRegistry registry = new PoolRegistry();
    private final Map<String, Job> jobs = new HashMap<>();
    /** Jobs with replicas waiting, in placement order and by need (key stored in the job). */
    private final PoolQueue queue = new PoolQueue();

    // the input being handled: its time, when the front handed it on, and what it did so far
    private long now;
    private long heardAt;
    private List<Effects.Emitted> records;
    private Map<String, Worker> savedWorkers;
    private Set<String> removedWorkers;
    private Map<String, Job> savedJobs;
    private Set<String> forgottenJobs;

    /** A market that judges its workers' silence by its own clock: a worker not heard for the grace goes offline at a tick. */
    PoolMarket(String pool, MatcherConfig cfg) {
        this(pool, cfg, false);
    }

    private PoolMarket(String pool, MatcherConfig cfg, boolean silenceFromGate) {
        this.pool = pool;
        this.cfg = cfg;
        this.silenceFromGate = silenceFromGate;
    }

    /**
     * The market of the matcher's topology: the worker gate hears every heartbeat but hands on only those
     * that report something new ({@link QuietBeats}), so a worker's last heartbeat here says nothing of its
     * liveness; the gate says when a worker's heartbeats stopped for the grace ({@link Flow.Silent}).
     */
    static PoolMarket behindGate(String pool, MatcherConfig cfg) {
        return new PoolMarket(pool, cfg, true);
    }

    String pool() {
        return pool;
    }

    /** The X25519 key a worker registered ({@code sealKey}), which its tasks are sealed to; null when unknown. */
    String sealKey(String workerId) {
        Worker w = registry.get(workerId);
        return w == null || w.capabilities == null ? null : w.capabilities.getSealKey();
    }

    /** The job the pool stage knows by that id, null when none. */
    Job job(String jobId) {
        return jobs.get(jobId);
    }

    /** Jobs waiting in the queue (read by the meters). */
    int queued() {
        return queue.size();
    }

    /** Takes back a worker read from the store (no effects). */
    void restore(Worker w) {
        w.maxSlots = maxSlots(w);
        registry.put(w);
    }

    /**
     * Tasks a worker may hold at once: its registration's {@code maxConcurrent}, never more than the
     * pool's {@code agora.matcher.max.slots.per.worker}, whatever free slots its heartbeats claim.
     */
    private int maxSlots(Worker w) {
        int cap = cfg.maxSlotsPerWorker();
        int claimed = w.capabilities == null ? 0 : w.capabilities.getMaxConcurrent();
        return claimed > 0 ? Math.min(claimed, cap) : cap;
    }

    /** Takes back a job read from the store (no effects). */
    void restore(Job job) {
        jobs.put(job.jobId, job);
        if (job.queueKey != null) {
            queue.add(job.queueKey, job.jobId, need(job));
        }
    }

    /**
     * The market is back at {@code now} after being away: its task restored at a start or taken over
     * from an instance that died. Heartbeats sent meanwhile wait in the topics, so silence counts from
     * now, not from the last heartbeat read: every worker not offline was last seen now and every lease
     * is renewed on the matcher's clock (never past what its task may run). A live worker's waiting
     * heartbeats arrive before it could be judged; a dead one is judged a grace later. Without this the
     * first tick after a takeover took every worker offline, dropped its leases and put it in its
     * cool-down: no placement for {@code agora.matcher.cooldown.ms} after a matcher SIGKILL (agora chaos).
     */
    Effects resume(long now) {
        begin(now);
        for (Worker w : registry.all()) {
            if (w.status != Status.OFFLINE && w.lastSeenAt < now) {
                w.lastSeenAt = now;
                saveWorker(w);
            }
        }
        for (Job job : jobs.values()) {
            if (job.status != JobStatus.RUNNING) {
                continue;
            }
            for (Replica r : job.replicas.values()) {
                long deadline = r.state == ReplicaState.LEASED
                        ? Leases.renewed(r.leaseDeadline, now, cfg.leaseMs(), latestDeadline(job, r)) : r.leaseDeadline;
                if (deadline != r.leaseDeadline) {
                    r.leaseDeadline = deadline;
                    saveJob(job);
                }
            }
        }
        return end();
    }

    /** Handles one input of the pool at time {@code now}. */
    Effects on(Flow.PoolEvent ev, long now) {
        return on(ev, now, now);
    }

    /**
     * Handles one input of the pool at time {@code now} that the matcher's front handed on at {@code heardAt}: a
     * result's latency ends there, not when the stage reads it, which waits for the front's commit (at once
     * or at the interval, {@link ResultAsks}).
     */
    Effects on(Flow.PoolEvent ev, long now, long heardAt) {
        begin(now);
        this.heardAt = Math.min(now, heardAt);
        if (ev instanceof Flow.Admitted a) {
            admitted(a);
        } else if (ev instanceof Flow.Registered r) {
            registered(r);
        } else if (ev instanceof Flow.Removed r) {
            depart(r.workerId(), "worker left the pool");
        } else if (ev instanceof Flow.Beat b) {
            heartbeat(b.heartbeat());
        } else if (ev instanceof Flow.Silent q) {
            Worker w = registry.get(q.workerId());
            if (w != null && !w.departed && w.status != Status.OFFLINE) {
                offline(w);
                drain();
            }
        } else if (ev instanceof Flow.Reputation r) {
            Worker w = registry.get(r.workerId());
            if (w != null) {
                w.reputation = r.reputation();
                if (r.stakeMicros() >= 0) {
                    w.stakeMicros = r.stakeMicros(); // the gate's bond after a slash
                }
                saveWorker(w);
            }
        } else if (ev instanceof Flow.Result r) {
            result(r);
        } else if (ev instanceof Flow.Command c) {
            command(c.command());
        }
        return end();
    }

    /** The clock's work at time {@code now}: offline workers, expired leases, queue timeouts, deadlines, the queue. */
    Effects tick(long now) {
        return tick(now, now);
    }

    /**
     * {@link #tick(long)} for a stage that has read its input up to {@code heard} ({@code <= now}): a worker is
     * offline, and a lease expired, only if that is so at {@code heard}; a heartbeat or result written since
     * may still be on its way.
     */
    Effects tick(long now, long heard) {
        begin(now);
        List<WorkerView> registered = null;
        for (Worker w : registry.all()) {
            if (w.coolingUntil != 0 && w.coolingUntil <= now) {
                w.coolingUntil = 0;
                if (w.departed) {
                    removeWorker(w.workerId);
                    continue;
                }
                saveWorker(w);
            }
            if (!silenceFromGate && w.status != Status.OFFLINE && w.lastSeenAt + cfg.workerGraceMs() < heard) {
                offline(w);
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
                    } else {
                        registered = registered == null ? registered() : registered;
                        endIfUnmatched(job, registered, heard);
                    }
                }
                case RUNNING -> {
                    if (job.deadline() + cfg.workerGraceMs() < now) {
                        giveUp(job, "job deadline passed");
                        forget(job);
                        continue;
                    }
                    for (Replica r : job.replicas.values()) {
                        if (r.state == ReplicaState.LEASED && Leases.expired(r.leaseDeadline, heard)) {
                            reputation(r.workerId, cfg.leaseExpiredPenalty(), "lease expired", job.jobId);
                            Worker holder = registry.get(r.workerId);
                            if (holder != null && Leases.countsTowardsCoolDown(r.leaseDeadline, cfg.leaseMs(),
                                    lastHeard(holder, heard), holder.tookUp(r.taskId(job.jobId)))) {
                                dropped(holder, 1, "lease expired");
                            }
                            fail(job, r, "lease expired");
                        }
                    }
                }
            }
        }
        drain();
        return end();
    }

    /** The worker fell silent: OFFLINE, one penalty for the silence, and each lease it drops counts towards a cool-down. */
    private void offline(Worker w) {
        w.status = Status.OFFLINE;
        saveWorker(w);
        reputation(w.workerId, cfg.offlinePenalty(), "offline", null);
        dropped(w, failAllOf(w, "worker offline"), "worker offline");
    }

    /**
     * When the worker was last heard: at its last heartbeat here; behind the gate, which hands on only
     * heartbeats that report something new, at {@code heard} (what the stage has read up to) for a worker
     * the gate has not called silent.
     */
    private long lastHeard(Worker w, long heard) {
        return silenceFromGate && w.status != Status.OFFLINE ? heard : w.lastSeenAt;
    }

    /**
     * Whether {@link #tick} may have business before {@code now + horizonMs}: a job (queued, running or
     * not yet forgotten), a worker whose silence reaches the grace or whose cool-down ends within the
     * horizon. While it has none, the pool's ticks may be {@code horizonMs} apart and miss nothing: a
     * worker that dies is still called offline at the first tick after its grace, as at every tick.
     */
    boolean busyWithin(long now, long horizonMs) {
        if (!jobs.isEmpty()) {
            return true;
        }
        long until = now + horizonMs;
        for (Worker w : registry.all()) {
            if ((w.coolingUntil != 0 && w.coolingUntil <= until)
                    || (!silenceFromGate && w.status != Status.OFFLINE && w.lastSeenAt + cfg.workerGraceMs() < until)) {
                return true;
            }
        }
        return false;
    }

    private void begin(long at) {
        now = at;
        records = new ArrayList<>();
        savedWorkers = new LinkedHashMap<>();
        removedWorkers = new LinkedHashSet<>();
        savedJobs = new LinkedHashMap<>();
        forgottenJobs = new LinkedHashSet<>();
    }

    private Effects end() {
        Effects fx = new Effects(List.copyOf(records), List.copyOf(savedWorkers.values()), List.copyOf(removedWorkers),
                List.copyOf(savedJobs.values()), List.copyOf(forgottenJobs));
        records = null;
        savedWorkers = null;
        removedWorkers = null;
        savedJobs = null;
        forgottenJobs = null;
        return fx;
    }

    // ---- jobs -------------------------------------------------------------------------------

    private void admitted(Flow.Admitted a) {
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
            String nobody = unmatched(job, registered());
            long grace = cfg.rules().unmatchedGraceMs(pool);
            job.unmatchedSince = nobody == null ? 0 : now;
            String why = nobody == null ? "" : "; " + nobody
                    + (grace > 0 ? " (it ends in " + grace / 1000 + " s unless one registers)" : "");
            emit(job.jobId, Topics.JOB_EVENTS.name(), event(job, JobEventType.QUEUED,
                    "waiting for " + req.getRedundancy() + " eligible workers" + why, null, -1, -1));
        }
    }

    /**
     * Ends the queued job EXPIRED, its escrow refunded (the market's failure, not the client's), once no
     * registered worker of the pool could ever run it ({@link Eligibility#nobodyMayTake}: busy, silent and
     * cooling workers count as able) and that has held for the pool's {@link io.agora.market.MarketRules#unmatchedGraceMs}
     * up to {@code heard}, the time the stage has read its input up to: a registration on its way still counts.
     * The time it was first seen so is not stored: after a restart the grace starts again.
     */
    private void endIfUnmatched(Job job, List<WorkerView> registered, long heard) {
        long grace = cfg.rules().unmatchedGraceMs(pool);
        String nobody = grace <= 0 ? null : unmatched(job, registered);
        if (nobody == null) {
            job.unmatchedSince = 0;
        } else if (job.unmatchedSince == 0) {
            job.unmatchedSince = heard;
        } else if (job.unmatchedSince + grace <= heard) {
            terminate(job, Outcome.EXPIRED, JobEventType.EXPIRED, nobody);
        }
    }

    /** Why no registered worker of the pool could ever run the job; null when one could. */
    private String unmatched(Job job, List<WorkerView> registered) {
        return Eligibility.nobodyMayTake(MatchRequest.of(job.request, 1, job.touched, cfg.allowlist(pool)), registered, pool);
    }

    /** The views of the pool's registered workers, departed ones (kept only for their cool-down) left out. */
    private List<WorkerView> registered() {
        List<WorkerView> views = new ArrayList<>();
        for (Worker w : registry.all()) {
            if (!w.departed) {
                views.add(w.view());
            }
        }
        return views;
    }

    /**
     * Places the job's waiting replicas it can; keeps the job queued while some still wait. The
     * job is saved when it changed here or when {@code dirty} (the caller changed it before): a
     * queued job that still cannot be placed is not written again (a drain tries every queued job).
     */
    /** Places what it can of the job's waiting replicas; whether it placed any. */
    private boolean tryPlace(Job job, boolean dirty) {
        if (job.status != JobStatus.QUEUED && job.status != JobStatus.RUNNING) {
            if (dirty) {
                saveJob(job);
            }
            return false;
        }
        boolean changed = dirty;
        boolean placed = false;
        List<Replica> waiting = job.waiting(now);
        boolean initial = job.status == JobStatus.QUEUED;
        // all-or-nothing needs as many distinct free workers as waiting replicas; eligible workers
        // are a subset of the free ones, so with fewer there is nothing to match
        int needed = initial ? waiting.size() : 1;
        if (!waiting.isEmpty() && registry.freeCount() >= needed) {
            MatchRequest req = MatchRequest.of(job.request, waiting.size(), job.touched, cfg.allowlist(pool));
            List<Matching.Choice> choices = Matching.best(req, registry.free(), cfg.weights());
            if (!(initial && choices.size() < waiting.size())) {
                for (int i = 0; i < Math.min(choices.size(), waiting.size()); i++) {
                    assign(job, waiting.get(i), choices.get(i));
                    changed = true;
                    placed = true;
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
        if (changed || !Objects.equals(queueKey, job.queueKey)) {
            saveJob(job);
        }
        return placed;
    }

    private void assign(Job job, Replica r, Matching.Choice choice) {
        Worker w = registry.get(choice.worker().workerId());
        String taskId = r.taskId(job.jobId);
        r.workerId = w.workerId;
        r.assignedAt = now;
        r.leaseDeadline = Leases.initialDeadline(now, cfg.leaseMs());
        r.partition = Matching.partitionFor(taskId, w.ownedPartitions);
        r.state = ReplicaState.LEASED;
        r.score = choice.score();
        r.explain = choice.explain();
        // the registry's price, which matching kept within the job's ceiling; min() keeps payouts bounded if it ever was not
        r.price = Math.min(w.price, job.request.getRequirements().getMaxPricePerCpuSecondMicros());
        r.minPricePerJob = w.capabilities == null ? 0 : w.capabilities.getMinPricePerJobMicros();
        Pricing.Rates ceilings = Pricing.Rates.ceilings(job.request.getRequirements());
        r.gpuPrice = w.capabilities == null ? 0 : Math.min(w.capabilities.getPricePerGpuSecondMicros(), ceilings.gpuMicros());
        r.memoryPrice = w.capabilities == null ? 0
                : Math.min(w.capabilities.getPricePerGbSecondMicros(), ceilings.memoryGibMicros());
        job.touched.add(w.workerId);
        w.pending.put(taskId, now);
        w.held.put(taskId, now);
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
        records.add(new Effects.Emitted(Topics.TASKS.name(), r.workerId, PoolRecords.task(pool, job, r), r.partition));
    }

    /** Ends a job the matcher still owns (never assigned): whole escrow back, verdict and terminal event. */
    private void terminate(Job job, Outcome outcome, JobEventType type, String reason) {
        JobRequested q = job.request;
        String clientId = q.getClientId();
        if (job.escrowMicros > 0) {
            emit(clientId, Topics.LEDGER.name(), Postings.refund(job.jobId, clientId, job.escrowMicros, reason, now));
        }
        emit(job.jobId, Topics.VERDICTS.name(), PoolRecords.unplacedVerdict(job, outcome, reason, now));
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
        release(r.workerId == null ? null : registry.get(r.workerId), r.taskId(job.jobId));
        int next = r.attempt + 1;
        if (!Leases.mayRetry(next, job.maxAttempts(cfg.defaultMaxAttempts()))) {
            r.state = ReplicaState.FAILED;
            replicaFailed(job.jobId, job.request.getClientId(), r.replica, new ArrayList<>(job.touched),
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

    private void command(JobCommand c) {
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
            requestReplicas(job, c);
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
    private void requestReplicas(Job job, JobCommand c) {
        int from = c.getReplica() >= 0 ? c.getReplica() : job == null ? -1 : job.nextReplica;
        int count = Math.max(0, c.getCount());
        if (job == null || job.status != JobStatus.RUNNING || from < 0) {
            log.info("REQUEST_REPLICAS for job {} not running here, answered REPLICA_FAILED", c.getJobId());
            for (int i = 0; from >= 0 && i < count; i++) {
                replicaFailed(c.getJobId(), c.getClientId(), from + i, List.of(), "job not running in the matcher");
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
                replicaFailed(job.jobId, job.request.getClientId(), n, List.of(),
                        "replica " + n + " is beyond maxTotalResults " + bound);
                continue;
            }
            Replica r = new Replica();
            r.replica = n;
            job.replicas.put(n, r);
        }
        job.nextReplica = Math.max(job.nextReplica, from + count);
        if (!Eligibility.DISPUTE_REPLICAS.equals(c.getReason())) { // a dispute's re-run waits for fresh workers
            failIfNobodyMayTake(job);
        }
        tryPlace(job, true);
    }

    /**
     * Fails at once the waiting replicas of a running job that no worker of the pool could ever take, busy
     * and silent ones included ({@link Eligibility#mayTakeLater}): typically every one that could has run a
     * replica already, and the verifier asks for more only when the results disagree. Waiting would only
     * hold the job to its deadline.
     */
    private void failIfNobodyMayTake(Job job) {
        MatchRequest req = MatchRequest.of(job.request, 1, job.touched, cfg.allowlist(pool));
        List<Worker> all = registry.all();
        if (all.stream().anyMatch(w -> !w.departed && Eligibility.mayTakeLater(req, w.view()))) {
            return;
        }
        for (Replica r : job.waiting(Long.MAX_VALUE)) {
            r.state = ReplicaState.FAILED;
            replicaFailed(job.jobId, job.request.getClientId(), r.replica, List.of(), Eligibility.NO_ELIGIBLE_WORKER
                    + " in pool " + pool + " (" + all.size() + " workers, " + job.touched.size() + " already ran a replica)");
        }
    }

    private void replicaFailed(String jobId, String clientId, int replica, List<String> exclude, String reason) {
        emit(jobId, Topics.JOB_COMMANDS.name(), PoolRecords.replicaFailed(pool, jobId, clientId, replica, exclude, reason, now));
    }

    // ---- workers ----------------------------------------------------------------------------

    private void registered(Flow.Registered ev) {
        WorkerRegistration reg = ev.registration();
        if (reg.getType() == RegistrationType.DEREGISTERED) {
            depart(reg.getWorkerId(), "worker deregistered");
            return;
        }
        Worker w = registry.get(reg.getWorkerId());
        if (w == null) {
            w = new Worker();
            w.workerId = reg.getWorkerId();
            w.pool = pool;
            w.reportedFreeSlots = reg.getCapabilities().getMaxConcurrent();
        }
        w.capabilities = reg.getCapabilities();
        w.maxSlots = maxSlots(w);
        w.departed = false;
        w.price = boundedPrice(w, reg.getCapabilities().getPricePerCpuSecondMicros());
        w.stakeMicros = reg.getStakeMicros(); // the gate's bond, not the worker's wish (WorkerGateProcessor)
        w.reputation = ev.reputation();
        w.status = Status.ONLINE;
        w.lastSeenAt = now;
        saveWorker(w);
        drain();
    }

    /** The worker's cpu price as the pool holds it: bounded by its checked score where the pool says so ({@link io.agora.market.Pricing#cpuPriceBound}). */
    private long boundedPrice(Worker w, long claimed) {
        double score = w.capabilities == null ? 0 : w.capabilities.getBenchmarkScore();
        return io.agora.market.Pricing.cpuPriceBound(claimed, score, cfg.rules().pohPriceMicros(pool));
    }

    private void heartbeat(Heartbeat hb) {
        Worker w = registry.get(hb.getWorkerId());
        if (w == null || w.departed) {
            return;
        }
        w.lastSeenAt = now;
        w.reportedStatus = hb.getStatus().name();
        w.reportedFreeSlots = hb.getFreeSlots();
        w.load = hb.getLoad();
        w.price = boundedPrice(w, hb.getPricePerCpuSecondMicros());
        w.ownedPartitions = new ArrayList<>(hb.getOwnedPartitions());
        w.imageDigests = Set.copyOf(hb.getImageDigests());
        w.status = "DRAINING".equals(w.reportedStatus) ? Status.DRAINING : Status.ONLINE;
        Set<String> inFlight = new LinkedHashSet<>(hb.getInFlightTaskIds()); // in the worker's order: effects are deterministic
        w.claimedInFlight = new LinkedHashSet<>(inFlight);
        long stale = now - cfg.leaseMs() - cfg.workerGraceMs();
        w.pending.entrySet().removeIf(e -> inFlight.contains(e.getKey()) || e.getValue() < stale);
        // what the worker holds is what the matcher leased it: entries of leases that ended are dropped,
        // leases it lists are (re)learned; its claim of free slots never raises the count above its cap
        w.held.keySet().removeIf(taskId -> leased(w, taskId) == null);
        for (String taskId : inFlight) {
            Replica r = leased(w, taskId);
            if (r != null) {
                w.held.putIfAbsent(taskId, r.assignedAt);
            }
        }
        saveWorker(w);
        for (String taskId : inFlight) {
            Replica r = leased(w, taskId);
            if (r == null) {
                continue;
            }
            Job job = jobs.get(Leases.jobOf(taskId));
            if (job.startedAt == 0) {
                // the first replica a worker has taken up: the job has started
                job.startedAt = now;
                emit(job.jobId, Topics.JOB_EVENTS.name(), event(job, JobEventType.STARTED,
                        "replica " + r.replica + " held by its worker", w.workerId, r.replica, r.attempt));
                saveJob(job);
            }
            // the matcher's clock, never the time the worker claims; never past what the task may run
            long deadline = Leases.renewed(r.leaseDeadline, now, cfg.leaseMs(), latestDeadline(job, r));
            if (deadline != r.leaseDeadline) {
                r.leaseDeadline = deadline;
                saveJob(job);
            }
        }
        drain();
    }

    private long latestDeadline(Job job, Replica r) {
        return Leases.latestDeadline(r.assignedAt, job.request.getSpec().getTimeoutMs(), cfg.leaseMs(), cfg.workerGraceMs());
    }

    /** The replica of a running job whose current attempt {@code taskId} is leased to {@code w}, else null. */
    private Replica leased(Worker w, String taskId) {
        Job job = jobs.get(Leases.jobOf(taskId));
        if (job == null || job.status != JobStatus.RUNNING) {
            return null;
        }
        for (Replica r : job.replicas.values()) {
            if (r.state == ReplicaState.LEASED && w.workerId.equals(r.workerId) && taskId.equals(r.taskId(job.jobId))) {
                return r;
            }
        }
        return null;
    }

    /** The task ended for the worker (result, failure, give-up): it no longer holds a slot. */
    private void release(Worker w, String taskId) {
        if (w == null) {
            return;
        }
        boolean changed = w.pending.remove(taskId) != null;
        changed |= w.held.remove(taskId) != null;
        if (changed) {
            saveWorker(w);
        }
    }

    /**
     * The worker ended a task its latest heartbeat listed in flight: the slot that heartbeat's claim of
     * free slots left out is free again now, not at the next heartbeat (seconds away). Only its own
     * result does this, once per task, and never past its cap ({@link Worker#freeSlots}). A worker
     * frees a slot when it sends a result and lists the task until the broker acknowledges it, so a
     * heartbeat sent in between counted the slot already: the claim is then one too high until the
     * next heartbeat, still within the cap, which counts the matcher's own leases.
     */
    private void slotBack(Worker w, String taskId) {
        if (w != null && w.claimedInFlight.remove(taskId)) {
            w.reportedFreeSlots++;
            saveWorker(w);
        }
    }

    /**
     * The worker left (deregistered, or moved to another pool): its leases fail, each counting towards a
     * cool-down. A worker cooling down is kept, OFFLINE and departed, until its cool-down ends, so that
     * registering again does not end it; any other is removed at once.
     */
    private void depart(String workerId, String reason) {
        Worker w = registry.get(workerId);
        if (w == null) {
            return;
        }
        dropped(w, failAllOf(w, reason), reason);
        if (w.coolingUntil == 0) {
            removeWorker(workerId);
        } else {
            w.status = Status.OFFLINE;
            w.departed = true;
            saveWorker(w);
        }
    }

    /**
     * Counts leases the worker dropped (silent, departed) or took up and let expire without a result (not
     * those that expired in a live worker's backlog: {@link Leases#countsTowardsCoolDown}): {@code agora.matcher.cooldown.expired.leases}
     * of them within {@code agora.matcher.cooldown.window.ms} and it is not matched for {@code agora.matcher.cooldown.ms}.
     */
    private void dropped(Worker w, int leases, String why) {
        if (w == null || leases == 0) {
            return;
        }
        for (int i = 0; i < leases; i++) {
            w.expiredLeases.add(now);
        }
        w.expiredLeases.removeIf(t -> t <= now - cfg.coolDownWindowMs());
        while (w.expiredLeases.size() > cfg.coolDownLeases()) {
            w.expiredLeases.remove(0);
        }
        if (cfg.coolDownLeases() > 0 && w.expiredLeases.size() >= cfg.coolDownLeases()) {
            w.coolingUntil = now + cfg.coolDownMs();
            w.expiredLeases.clear();
            log.info("worker {} let {} leases expire within {} ms (the last {} of them: {}): not matched until {}",
                    w.workerId, cfg.coolDownLeases(), cfg.coolDownWindowMs(), leases, why, w.coolingUntil);
        }
        saveWorker(w);
    }

    private void result(Flow.Result res) {
        boolean handedBack = "HANDED_BACK".equals(res.status());
        Worker sender = registry.get(res.workerId());
        if (!handedBack) {
            release(sender, res.taskId());
            slotBack(sender, res.taskId());
        }
        Job job = jobs.get(res.jobId());
        Replica r = job == null ? null : job.replicas.get(res.replica());
        if (job == null || job.status != JobStatus.RUNNING || r == null || r.state != ReplicaState.LEASED
                || r.attempt != res.attempt()) {
            drain();
            return;
        }
        if (handedBack) {
            reroute(job, r);
        } else if (res.workerId().equals(r.workerId)) {
            r.state = ReplicaState.FINISHED;
            if (sender != null) {
                double sample = Math.max(0, heardAt - r.assignedAt);
                sender.avgLatencyMs = sender.avgLatencyMs < 0 ? sample : 0.8 * sender.avgLatencyMs + 0.2 * sample;
                saveWorker(sender);
            }
            saveJob(job);
        }
        drain();
    }

    /** A task reached a worker it was not for: send it again to its worker's current partitions, or move it. */
    private void reroute(Job job, Replica r) {
        Worker intended = registry.get(r.workerId);
        if (intended != null && intended.matchable() && !intended.ownedPartitions.isEmpty()) {
            List<Integer> others = new ArrayList<>(intended.ownedPartitions);
            others.remove(Integer.valueOf(r.partition));
            List<Integer> choose = others.isEmpty() ? intended.ownedPartitions : others;
            r.partition = Matching.partitionFor(r.taskId(job.jobId), choose);
            // the attempt keeps its assignment time: hand-backs (anyone may sign one) never extend a lease
            // past what the task may run
            r.leaseDeadline = Leases.renewed(r.leaseDeadline, now, cfg.leaseMs(), latestDeadline(job, r));
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
                release(r.workerId == null ? null : registry.get(r.workerId), r.taskId(job.jobId));
                r.state = ReplicaState.FAILED;
                replicaFailed(job.jobId, job.request.getClientId(), r.replica, List.of(), reason);
            }
        }
    }

    /** Fails every lease the worker holds; returns how many. */
    private int failAllOf(Worker w, String reason) {
        int n = 0;
        for (Job job : new ArrayList<>(jobs.values())) {
            if (job.status != JobStatus.RUNNING) {
                continue;
            }
            for (Replica r : job.replicas.values()) {
                if (r.state == ReplicaState.LEASED && w.workerId.equals(r.workerId)) {
                    fail(job, r, reason);
                    n++;
                }
            }
        }
        return n;
    }

    /** Retries the queued jobs, higher priority first, then oldest first, while a worker is free. */
    /**
     * Places what the free workers can take, in queue order: only jobs whose need the free workers meet are
     * tried ({@link PoolQueue#next}), and a job of a shape that already failed in this drain is passed over
     * without asking matching again (placements only take free slots, so what failed stays failed).
     */
    private void drain() {
        Set<Unplaced> failed = null;
        String key = null;
        while (queue.anyWithin(registry.freeCount())) {
            key = queue.next(key, registry.freeCount());
            if (key == null) {
                return;
            }
            Job job = jobs.get(queue.jobAt(key));
            if (job == null) {
                continue;
            }
            if (failed != null && failed.contains(unplaced(job))) {
                continue;
            }
            if (!tryPlace(job, false)) {
                if (failed == null) {
                    failed = new HashSet<>();
                }
                failed.add(unplaced(job));
            }
        }
    }

    /** A matching question that found too few workers: the job's shape, the replicas asked for, the workers excluded. */
    private record Unplaced(MatchRequest.Shape shape, int count, boolean initial, Set<String> excluded) {
    }

    private Unplaced unplaced(Job job) {
        if (job.shape == null) {
            job.shape = MatchRequest.Shape.of(job.request);
        }
        return new Unplaced(job.shape, job.waitingCount(now), job.status == JobStatus.QUEUED,
                job.touched.isEmpty() ? Set.of() : Set.copyOf(job.touched));
    }

    /**
     * A lower bound of the free workers {@link #tryPlace} needs to place any of the job's replicas: all
     * its waiting replicas while queued (none of them has a retry time then), one when running.
     */
    private static int need(Job job) {
        if (job.status != JobStatus.QUEUED) {
            return 1;
        }
        int waiting = 0;
        for (Replica r : job.replicas.values()) {
            if (r.state == ReplicaState.WAITING) {
                if (r.notBefore > 0) {
                    return 1;
                }
                waiting++;
            }
        }
        return Math.max(1, waiting);
    }

    // ---- state ------------------------------------------------------------------------------

    private Worker removeWorker(String workerId) {
        Worker w = registry.remove(workerId);
        if (w != null) {
            savedWorkers.remove(workerId);
            removedWorkers.add(workerId);
        }
        return w;
    }

    private void saveWorker(Worker w) {
        registry.put(w);
        removedWorkers.remove(w.workerId);
        savedWorkers.put(w.workerId, w);
    }

    private void saveJob(Job job) {
        jobs.put(job.jobId, job);
        forgottenJobs.remove(job.jobId);
        savedJobs.put(job.jobId, job);
    }

    private void forget(Job job) {
        dequeue(job);
        jobs.remove(job.jobId);
        savedJobs.remove(job.jobId);
        forgottenJobs.add(job.jobId);
    }

    private void enqueue(Job job) {
        if (job.queueKey == null) {
            long rank = (long) Integer.MAX_VALUE - job.request.getPriority();
            job.queueKey = String.format("%s|%010d|%013d|%s", pool, rank, job.queuedAt, job.jobId);
            queue.add(job.queueKey, job.jobId, need(job));
        }
    }

    private void dequeue(Job job) {
        if (job.queueKey != null) {
            queue.remove(job.queueKey);
            job.queueKey = null;
        }
    }

    private void reputation(String workerId, int delta, String reason, String jobId) {
        emit(workerId, Topics.REPUTATION.name(), PoolRecords.reputation(workerId, delta, reason, jobId, now));
    }

    private void emit(String key, String topic, SpecificRecord value) {
        records.add(new Effects.Emitted(topic, key, value, null));
    }

    private JobEvent event(Job job, JobEventType type, String reason, String workerId, int replica, int attempt) {
        return PoolRecords.event(pool, job, type, reason, workerId, replica, attempt, now);
    }
}
