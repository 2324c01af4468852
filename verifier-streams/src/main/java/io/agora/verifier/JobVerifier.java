package io.agora.verifier;

import io.agora.events.CommandType;
import io.agora.events.JobCommand;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobTerms;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.events.ReputationChanged;
import io.agora.events.ResultStatus;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.Signatures;
import io.agora.schemas.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The verifier's per-job processor, keyed by jobId. Input: TaskAssigned (re-keyed by job),
 * TaskResult and JobCommand. It checks each result against its assignment and signature, counts
 * votes, asks {@link Consensus} for a decision, requests extra replicas when agreement has become
 * impossible, settles the escrow once ({@link Settlement}), scores reputation, and ends jobs at
 * their deadline (wall-clock punctuator). Output values, routed by type in
 * {@link VerifierTopology}: JobVerdict, JobEvent, LedgerEntry (key clientId), ReputationChanged
 * (key workerId), JobCommand (REQUEST_REPLICAS) and {@code byte[]} dead letters with DLQ headers.
 */
final class JobVerifier implements Processor<String, SpecificRecord, String, Object> {
    private static final Logger log = LoggerFactory.getLogger(JobVerifier.class);
    private static final StringSerializer KEY = new StringSerializer();

    private final VerifierConfig cfg;
    private final Consensus consensus;
    private final Serializer<TaskResult> resultBytes;

    private ProcessorContext<String, Object> ctx;
    private KeyValueStore<String, JobState> jobs;
    private KeyValueStore<String, TaskAssigned> tasks;
    private KeyValueStore<String, TaskResult> results;
    private KeyValueStore<String, Orphan> orphans;
    private KeyValueStore<String, Long> open;
    /** Decided jobs by the time their state is dropped: key {@link #retireKey}, value jobId. */
    private KeyValueStore<String, String> retire;
    private KeyValueStore<String, WorkerStanding> standings;
    /** Timestamp of the records forwarded by the current process or punctuate call. */
    private long outTs;

    JobVerifier(VerifierConfig cfg, Serializer<TaskResult> resultBytes) {
        this.cfg = cfg;
        this.consensus = new Consensus(cfg);
        this.resultBytes = resultBytes;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.ctx = context;
        jobs = context.getStateStore(VerifierTopology.JOBS_STORE);
        tasks = context.getStateStore(VerifierTopology.TASKS_STORE);
        results = context.getStateStore(VerifierTopology.RESULTS_STORE);
        orphans = context.getStateStore(VerifierTopology.ORPHANS_STORE);
        open = context.getStateStore(VerifierTopology.OPEN_STORE);
        retire = context.getStateStore(VerifierTopology.RETIRE_STORE);
        standings = context.getStateStore(VerifierTopology.REPUTATION_STORE);
        context.schedule(cfg.punctuateInterval(), PunctuationType.WALL_CLOCK_TIME, this::sweep);
    }

    @Override
    public void process(Record<String, SpecificRecord> rec) {
        outTs = rec.timestamp();
        SpecificRecord v = rec.value();
        if (v instanceof TaskAssigned t) {
            onTask(t);
        } else if (v instanceof TaskResult r) {
            if (!r.getJobId().equals(rec.key())) {
                deadLetter(rec.key(), r, "record key is not the job id " + r.getJobId());
            } else {
                onResult(r);
            }
        } else if (v instanceof JobCommand c) {
            onCommand(c);
        }
    }

    // ---- tasks -------------------------------------------------------------------------

    private void onTask(TaskAssigned t) {
        String jobId = t.getJobId();
        tasks.put(t.getTaskId(), t);
        JobState s = jobs.get(jobId);
        if (s == null || s.first == null) {
            boolean cancel = s != null && s.cancelRequested;
            if (s == null) {
                s = new JobState();
            }
            s.first = t;
            jobs.put(jobId, s);
            if (cancel) {
                finish(jobId, s, Outcome.CANCELLED, null, "cancelled by client before the verifier saw the job");
            } else {
                open.put(jobId, t.getTerms().getDeadline().toEpochMilli());
            }
            releaseOrphans(jobId);
            s = jobs.get(jobId);
            if (!s.settled && !s.failedReplicas.isEmpty()) {
                evaluate(jobId, s); // REPLICA_FAILED commands that overtook the first task
            }
            return;
        }
        releaseOrphans(jobId);
    }

    private void releaseOrphans(String jobId) {
        List<KeyValue<String, Orphan>> ready = new ArrayList<>();
        try (KeyValueIterator<String, Orphan> it = orphans.prefixScan(jobId + "/", KEY)) {
            while (it.hasNext()) {
                KeyValue<String, Orphan> kv = it.next();
                if (tasks.get(kv.value.result().getTaskId()) != null) {
                    ready.add(kv);
                }
            }
        }
        for (KeyValue<String, Orphan> kv : ready) {
            orphans.delete(kv.key);
            onResult(kv.value.result());
        }
    }

    // ---- results -----------------------------------------------------------------------

    private void onResult(TaskResult r) {
        if (r.getStatus() == ResultStatus.HANDED_BACK) {
            return; // the matcher routes the task again
        }
        String expected = r.getJobId() + "/" + r.getReplica() + "/" + r.getAttempt();
        if (!expected.equals(r.getTaskId())) {
            deadLetter(r.getJobId(), r, "malformed task id: expected " + expected);
            return;
        }
        TaskAssigned task = tasks.get(r.getTaskId());
        if (task == null) {
            orphans.put(r.getTaskId() + "|" + r.getEventId(), new Orphan(ctx.currentSystemTimeMs(), r));
            return;
        }
        if (!task.getWorkerId().equals(r.getWorkerId())) {
            deadLetter(r.getJobId(), r, "not assigned to this worker");
            return;
        }
        if (!Signatures.verify(r, task.getWorkerId())) {
            deadLetter(r.getJobId(), r, "bad signature");
            return;
        }
        TaskResult before = results.get(r.getTaskId());
        if (before != null) {
            if (!before.equals(r)) {
                deadLetter(r.getJobId(), r, "conflicting duplicate");
            }
            return; // a redelivery
        }
        results.put(r.getTaskId(), r);
        String jobId = r.getJobId();
        JobState s = jobs.get(jobId);
        s.counted.add(r.getTaskId());
        jobs.put(jobId, s);

        if (!s.settled) {
            event(jobId, s.first.getTerms(), JobEventType.REPLICA_FINISHED, r.getStatus().name(), r.getWorkerId(),
                    r.getReplica(), r.getAttempt());
            if (isFailure(r)) {
                reputation(r.getWorkerId(), cfg.repFailed(), "replica failed: " + r.getStatus(), jobId);
            }
            evaluate(jobId, s);
        } else if (s.isDisputeReplica(r.getReplica())) {
            event(jobId, s.first.getTerms(), JobEventType.REPLICA_FINISHED, r.getStatus().name(), r.getWorkerId(),
                    r.getReplica(), r.getAttempt());
            if (isFailure(r)) {
                reputation(r.getWorkerId(), cfg.repFailed(), "replica failed: " + r.getStatus(), jobId);
            }
            evaluateDispute(jobId, s);
        } else {
            scoreLate(jobId, s, r);
        }
    }

    /** After the verdict: scored against the consensus, never paid. */
    private void scoreLate(String jobId, JobState s, TaskResult r) {
        if (isFailure(r)) {
            reputation(r.getWorkerId(), cfg.repFailed(), "replica failed: " + r.getStatus() + " (late)", jobId);
        } else if (s.outcome == Outcome.COMPLETED && isVote(r)) {
            if (r.getOutputSha256().equals(s.consensusHash)) {
                reputation(r.getWorkerId(), cfg.repAgree(), "agreed with consensus (late)", jobId);
            } else {
                reputation(r.getWorkerId(), cfg.repDissent(), "dissented from consensus (late)", jobId);
            }
        }
    }

    static boolean isVote(TaskResult r) {
        return r.getStatus() == ResultStatus.SUCCEEDED || r.getStatus() == ResultStatus.FAILED_EXIT;
    }

    static boolean isFailure(TaskResult r) {
        return !isVote(r) && r.getStatus() != ResultStatus.HANDED_BACK;
    }

    // ---- consensus ---------------------------------------------------------------------

    private void evaluate(String jobId, JobState s) {
        JobTerms terms = s.first.getTerms();
        List<Consensus.Vote> votes = new ArrayList<>();
        Set<String> voters = new HashSet<>();
        Set<Integer> finished = new HashSet<>(s.failedReplicas);
        for (String taskId : s.counted) {
            TaskResult r = results.get(taskId);
            finished.add(r.getReplica());
            if (isVote(r) && voters.add(r.getWorkerId())) {
                votes.add(new Consensus.Vote(r.getWorkerId(), r.getReplica(), r.getOutputSha256()));
            }
        }
        int slots = s.slots();
        int outstanding = 0;
        for (int replica = 0; replica < slots; replica++) {
            if (!finished.contains(replica)) {
                outstanding++;
            }
        }
        Consensus.Decision d = consensus.decide(terms.getStrategy(), terms.getRedundancy(), terms.getQuorum(),
                votes, outstanding, this::standing);
        switch (d.kind()) {
            case ACCEPT -> finish(jobId, s, Outcome.COMPLETED, d.hash(), null);
            case WAIT -> { }
            case NEED_MORE -> {
                if (slots + d.needed() <= terms.getMaxTotalResults()) {
                    s.extraRequested += d.needed();
                    jobs.put(jobId, s);
                    requestReplicas(jobId, terms, slots, d.needed(), "agreement impossible with " + votes.size()
                            + " votes and " + outstanding + " outstanding");
                } else if (votes.isEmpty()) {
                    finish(jobId, s, Outcome.FAILED, null, "no valid result from " + slots + " replicas");
                } else {
                    finish(jobId, s, Outcome.NO_CONSENSUS, null,
                            "no agreement among " + votes.size() + " votes, maxTotalResults " + terms.getMaxTotalResults() + " reached");
                }
            }
        }
    }

    private WorkerStanding standing(String workerId) {
        WorkerStanding w = standings.get(workerId);
        return w == null ? WorkerStanding.NEWCOMER : w;
    }

    /** Asks the matcher for replicas {@code from .. from+count-1} (JobCommand.replica = the first number). */
    private void requestReplicas(String jobId, JobTerms terms, int from, int count, String reason) {
        Set<String> holders = new LinkedHashSet<>();
        try (KeyValueIterator<String, TaskAssigned> it = tasks.prefixScan(jobId + "/", KEY)) {
            it.forEachRemaining(kv -> holders.add(kv.value.getWorkerId()));
        }
        JobCommand cmd = JobCommand.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setJobId(jobId)
                .setClientId(terms.getClientId())
                .setPool(terms.getPool())
                .setType(CommandType.REQUEST_REPLICAS)
                .setCount(count)
                .setReplica(from)
                .setExcludeWorkers(new ArrayList<>(holders))
                .setReason(reason)
                .setTimestamp(Instant.ofEpochMilli(ctx.currentSystemTimeMs()))
                .build();
        forward(jobId, cmd);
    }

    // ---- settlement --------------------------------------------------------------------

    /** The job's one verdict: settles the escrow, scores the voters, closes the job. */
    private void finish(String jobId, JobState s, Outcome outcome, String hash, String reason) {
        if (s.settled) {
            return;
        }
        long now = ctx.currentSystemTimeMs();
        JobTerms terms = s.first.getTerms();
        String clientId = terms.getClientId();
        List<String> agreeing = new ArrayList<>();
        List<String> dissenting = new ArrayList<>();
        TaskResult exemplar = null;
        Settlement.Plan plan;
        if (outcome == Outcome.COMPLETED) {
            List<Settlement.Share> earned = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            for (String taskId : s.counted) {
                TaskResult r = results.get(taskId);
                if (!isVote(r) || !seen.add(r.getWorkerId())) {
                    continue;
                }
                if (r.getOutputSha256().equals(hash)) {
                    agreeing.add(r.getWorkerId());
                    if (exemplar == null) {
                        exemplar = r;
                    }
                    earned.add(new Settlement.Share(r.getWorkerId(), Settlement.earned(tasks.get(taskId), r)));
                } else {
                    dissenting.add(r.getWorkerId());
                }
            }
            plan = Settlement.completed(terms.getEscrowMicros(), earned);
            if (reason == null) {
                reason = agreeing.size() + " agreeing, " + dissenting.size() + " dissenting";
            }
        } else {
            plan = Settlement.refundAll(terms.getEscrowMicros());
        }
        for (LedgerEntry e : Settlement.entries(jobId, clientId, plan, now)) {
            forward(clientId, e);
        }
        JobVerdict verdict = JobVerdict.newBuilder()
                .setEventId(UUID.nameUUIDFromBytes(("verdict:" + jobId).getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString())
                .setJobId(jobId)
                .setClientId(clientId)
                .setOutcome(outcome)
                .setConsensusHash(hash)
                .setOutput(exemplar == null ? null : exemplar.getStdout())
                .setExitCode(exemplar == null ? -1 : exemplar.getExitCode())
                .setAgreeing(agreeing)
                .setDissenting(dissenting)
                .setCostMicros(plan.costMicros())
                .setRefundMicros(plan.refundMicros())
                .setReason(reason)
                .setSubmittedAt(terms.getSubmittedAt())
                .setDecidedAt(Instant.ofEpochMilli(now))
                .build();
        forward(jobId, verdict);
        event(jobId, terms, JobEventType.VERDICT, outcome + (reason == null ? "" : ": " + reason), null, -1, -1);
        event(jobId, terms, JobEventType.valueOf(outcome.name()), reason, null, -1, -1);
        for (String w : agreeing) {
            reputation(w, cfg.repAgree(), "agreed with consensus", jobId);
        }
        for (String w : dissenting) {
            reputation(w, cfg.repDissent(), "dissented from consensus", jobId);
        }
        s.settled = true;
        s.outcome = outcome;
        s.consensusHash = hash;
        s.decidedAt = now;
        s.agreeing.addAll(agreeing);
        s.dissenting.addAll(dissenting);
        jobs.put(jobId, s);
        open.delete(jobId);
        long deadline = terms.getDeadline().toEpochMilli();
        retire.put(retireKey(Math.max(deadline, now) + cfg.retention().toMillis(), jobId), jobId);
        log.info("job {} {}: cost {} refund {}", jobId, outcome, plan.costMicros(), plan.refundMicros());
    }

    // ---- commands ----------------------------------------------------------------------

    private void onCommand(JobCommand c) {
        String jobId = c.getJobId();
        switch (c.getType()) {
            case CANCEL -> onCancel(jobId, c);
            case DISPUTE -> onDispute(jobId, c);
            case REPLICA_FAILED -> onReplicaFailed(jobId, c);
            case REQUEST_REPLICAS -> { } // our own hand-off to the matcher
        }
    }

    /**
     * Idempotent. A decided job ignores it. A job not seen yet remembers it and is cancelled when
     * its first task arrives (until {@code pendingCancelTtl}: the matcher cancels queued jobs
     * itself, and those never reach us). No verdict means no payouts: the whole escrow is refunded.
     */
    private void onCancel(String jobId, JobCommand c) {
        JobState s = jobs.get(jobId);
        if (s == null || s.first == null) {
            if (s == null) {
                s = new JobState();
                s.cancelSeenAt = ctx.currentSystemTimeMs();
                open.put(jobId, s.cancelSeenAt + cfg.pendingCancelTtl().toMillis());
            }
            s.cancelRequested = true;
            jobs.put(jobId, s);
            return;
        }
        if (s.settled) {
            return;
        }
        s.cancelRequested = true;
        finish(jobId, s, Outcome.CANCELLED, null, c.getReason() == null ? "cancelled by client" : c.getReason());
    }

    /**
     * The matcher gave up on a replica (attempts exhausted, a requested replica it will not place,
     * or the job's deadline passed): the replica is finished without a vote. Commands travel
     * directly while tasks go through a repartition topic, so it may overtake the job's first
     * task: then it is remembered like a pending cancel and counted when the task arrives.
     */
    private void onReplicaFailed(String jobId, JobCommand c) {
        if (c.getReplica() < 0) {
            return;
        }
        JobState s = jobs.get(jobId);
        if (s == null) {
            s = new JobState();
            s.cancelSeenAt = ctx.currentSystemTimeMs();
            open.put(jobId, s.cancelSeenAt + cfg.pendingCancelTtl().toMillis());
        }
        if (!s.failedReplicas.add(c.getReplica())) {
            return;
        }
        jobs.put(jobId, s);
        if (s.first == null) {
            return;
        }
        if (!s.settled) {
            event(jobId, s.first.getTerms(), JobEventType.REPLICA_FINISHED, "REPLICA_FAILED"
                    + (c.getReason() == null ? "" : ": " + c.getReason()), null, c.getReplica(), -1);
            evaluate(jobId, s);
        } else if (s.isDisputeReplica(c.getReplica())) {
            evaluateDispute(jobId, s);
        }
    }

    // ---- disputes ----------------------------------------------------------------------

    /**
     * A client may dispute a COMPLETED verdict within the dispute window. The verifier asks the
     * matcher for {@code quorum} more replicas on workers that held none, and compares them with
     * the consensus. No money moves (the escrow was settled with the verdict; the verifier never
     * creates credits): if a strict majority of the dispute replicas agree on another output, the
     * original agreeing workers lose {@code repDissent} each, and JobEvent DISPUTED says
     * "overturned"; otherwise it says "upheld". Dispute replicas are scored like voters.
     */
    private void onDispute(String jobId, JobCommand c) {
        JobState s = jobs.get(jobId);
        if (s == null || s.first == null || s.outcome != Outcome.COMPLETED) {
            disputeEvent(jobId, s, c.getClientId(), "refused: the job has no completed verdict");
            return;
        }
        if (s.disputeFrom >= 0) {
            disputeEvent(jobId, s, c.getClientId(), "refused: already disputed");
            return;
        }
        if (ctx.currentSystemTimeMs() - s.decidedAt > cfg.disputeWindow().toMillis()) {
            disputeEvent(jobId, s, c.getClientId(), "refused: dispute window closed");
            return;
        }
        JobTerms terms = s.first.getTerms();
        if (ctx.currentSystemTimeMs() >= terms.getDeadline().toEpochMilli()) {
            disputeEvent(jobId, s, c.getClientId(), "refused: past the job's deadline");
            return;
        }
        int count = consensus.quorumOf(terms.getStrategy(), terms.getRedundancy(), terms.getQuorum());
        if (s.slots() + count > terms.getMaxTotalResults()) {
            disputeEvent(jobId, s, c.getClientId(), "refused: " + count + " dispute replicas would exceed maxTotalResults "
                    + terms.getMaxTotalResults() + " (" + s.slots() + " replicas already)");
            return;
        }
        s.disputeFrom = s.slots();
        s.disputeCount = count;
        s.extraRequested += count;
        jobs.put(jobId, s);
        open.put(jobId, terms.getDeadline().toEpochMilli());
        requestReplicas(jobId, terms, s.disputeFrom, count, "dispute");
        disputeEvent(jobId, s, terms.getClientId(), "opened: " + count + " dispute replicas from replica " + s.disputeFrom);
    }

    private void evaluateDispute(String jobId, JobState s) {
        evaluateDispute(jobId, s, false);
    }

    /** {@code atDeadline}: the job's deadline passed, dispute replicas still running count as failed. */
    private void evaluateDispute(String jobId, JobState s, boolean atDeadline) {
        if (s.disputeResolved) {
            return;
        }
        Set<Integer> finished = new HashSet<>();
        for (int r : s.failedReplicas) {
            if (s.isDisputeReplica(r)) {
                finished.add(r);
            }
        }
        List<TaskResult> votes = new ArrayList<>();
        for (String taskId : s.counted) {
            TaskResult r = results.get(taskId);
            if (s.isDisputeReplica(r.getReplica())) {
                finished.add(r.getReplica());
                if (isVote(r)) {
                    votes.add(r);
                }
            }
        }
        if (finished.size() < s.disputeCount && !atDeadline) {
            return;
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        votes.forEach(r -> counts.merge(r.getOutputSha256(), 1, Integer::sum));
        Optional<String> other = counts.entrySet().stream()
                .filter(e -> !e.getKey().equals(s.consensusHash) && e.getValue() * 2 > s.disputeCount)
                .map(Map.Entry::getKey).findFirst();
        String winner = other.orElse(s.consensusHash);
        for (TaskResult r : votes) {
            if (r.getOutputSha256().equals(winner)) {
                reputation(r.getWorkerId(), cfg.repAgree(), "agreed with dispute outcome", jobId);
            } else {
                reputation(r.getWorkerId(), cfg.repDissent(), "dissented from dispute outcome", jobId);
            }
        }
        if (other.isPresent()) {
            for (String w : s.agreeing) {
                reputation(w, cfg.repDissent(), "consensus overturned by dispute", jobId);
            }
            disputeEvent(jobId, s, s.first.getTerms().getClientId(), "overturned: dispute replicas agree on " + winner);
        } else {
            disputeEvent(jobId, s, s.first.getTerms().getClientId(), "upheld");
        }
        s.disputeResolved = true;
        jobs.put(jobId, s);
        open.delete(jobId);
    }

    private void disputeEvent(String jobId, JobState s, String clientId, String reason) {
        String pool = s == null || s.first == null ? null : s.first.getTerms().getPool();
        forward(jobId, JobEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setJobId(jobId)
                .setClientId(clientId)
                .setType(JobEventType.DISPUTED)
                .setReason(reason)
                .setPool(pool)
                .setTimestamp(Instant.ofEpochMilli(ctx.currentSystemTimeMs()))
                .build());
    }

    // ---- wall-clock sweep --------------------------------------------------------------

    /** Ends open jobs past their deadline (EXPIRED), forgets stale pending cancels, dead-letters orphans. */
    private void sweep(long now) {
        outTs = now;
        List<KeyValue<String, Long>> due = new ArrayList<>();
        try (KeyValueIterator<String, Long> it = open.all()) {
            it.forEachRemaining(kv -> {
                if (now >= kv.value) {
                    due.add(kv);
                }
            });
        }
        for (KeyValue<String, Long> kv : due) {
            JobState s = jobs.get(kv.key);
            if (s == null) {
                open.delete(kv.key);
            } else if (s.first == null) {
                jobs.delete(kv.key);
                open.delete(kv.key);
            } else if (!s.settled) {
                finish(kv.key, s, Outcome.EXPIRED, null, "deadline passed");
            } else if (s.disputeFrom >= 0 && !s.disputeResolved) {
                evaluateDispute(kv.key, s, true);
            } else {
                open.delete(kv.key);
            }
        }
        List<KeyValue<String, Orphan>> stale = new ArrayList<>();
        try (KeyValueIterator<String, Orphan> it = orphans.all()) {
            it.forEachRemaining(kv -> {
                if (now - kv.value.arrivedAt() >= cfg.orphanTimeout().toMillis()) {
                    stale.add(kv);
                }
            });
        }
        for (KeyValue<String, Orphan> kv : stale) {
            orphans.delete(kv.key);
            deadLetter(kv.value.result().getJobId(), kv.value.result(), "unknown task");
        }
        retireDue(now);
    }

    /** Sorts by due time as a string: 19 zero-padded digits hold every non-negative long. */
    static String retireKey(long dueMs, String jobId) {
        return String.format("%019d|%s", Math.max(0, dueMs), jobId);
    }

    /**
     * Drops the state of decided jobs whose retention has passed: the job, its tasks and results
     * (keys {@code jobId/replica/attempt}). A job still in a dispute waits for it; the money was
     * settled with the verdict, so nothing is owed to or by a retired job.
     */
    private void retireDue(long now) {
        List<KeyValue<String, String>> due = new ArrayList<>();
        try (KeyValueIterator<String, String> it = retire.range(retireKey(0, ""), retireKey(now, "\uffff"))) {
            it.forEachRemaining(due::add);
        }
        for (KeyValue<String, String> kv : due) {
            retire.delete(kv.key);
            String jobId = kv.value;
            JobState s = jobs.get(jobId);
            if (s != null && s.disputeFrom >= 0 && !s.disputeResolved) {
                retire.put(retireKey(now + cfg.retention().toMillis(), jobId), jobId);
                continue;
            }
            jobs.delete(jobId);
            open.delete(jobId);
            deletePrefix(tasks, jobId + "/");
            deletePrefix(results, jobId + "/");
            log.debug("job {} retired", jobId);
        }
    }

    private static <V> void deletePrefix(KeyValueStore<String, V> store, String prefix) {
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, V> it = store.range(prefix, prefix + "\uffff")) {
            it.forEachRemaining(kv -> keys.add(kv.key));
        }
        keys.forEach(store::delete);
    }

    // ---- output ------------------------------------------------------------------------

    private void event(String jobId, JobTerms terms, JobEventType type, String reason, String workerId,
                       int replica, int attempt) {
        forward(jobId, JobEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setJobId(jobId)
                .setClientId(terms.getClientId())
                .setType(type)
                .setReason(reason)
                .setWorkerId(workerId)
                .setReplica(replica)
                .setAttempt(attempt)
                .setPool(terms.getPool())
                .setEscrowMicros(type == JobEventType.VERDICT ? terms.getEscrowMicros() : 0)
                .setTimestamp(Instant.ofEpochMilli(ctx.currentSystemTimeMs()))
                .build());
    }

    private void reputation(String workerId, int delta, String reason, String jobId) {
        forward(workerId, ReputationChanged.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setWorkerId(workerId)
                .setDelta(delta)
                .setReason(reason)
                .setJobId(jobId)
                .setTimestamp(Instant.ofEpochMilli(ctx.currentSystemTimeMs()))
                .build());
    }

    /** The refused result, re-serialised with the results topic's serde, with the reason in headers. */
    private void deadLetter(String key, TaskResult r, String reason) {
        // from the results topic itself we know where it came from; a buffered or swept one lost that
        Optional<RecordMetadata> m = ctx.recordMetadata().filter(x -> Topics.RESULTS.name().equals(x.topic()));
        String topic = Topics.RESULTS.name();
        int partition = m.map(RecordMetadata::partition).orElse(-1);
        long offset = m.map(RecordMetadata::offset).orElse(-1L);
        Headers h = DeadLetters.headers(VerifierConfig.APP_ID, reason, topic, partition, offset);
        log.warn("result {} of worker {} sent to DLQ: {}", r.getTaskId(), r.getWorkerId(), reason);
        ctx.forward(new Record<>(key, (Object) resultBytes.serialize(Topics.RESULTS.name(), r), outTs, h));
    }

    private void forward(String key, Object value) {
        ctx.forward(new Record<>(key, value, outTs));
    }
}
