package io.agora.verifier;

import io.agora.events.JobCommand;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobSpec;
import io.agora.events.JobTerms;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.events.ReputationChanged;
import io.agora.events.ResultStatus;
import io.agora.events.SlashResult;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.schemas.Assignments;
import io.agora.market.Eligibility;
import io.agora.market.Pricing;
import io.agora.schemas.Identity;
import io.agora.schemas.OutputHash;
import io.agora.schemas.Receipts;
import io.agora.schemas.Signatures;
import org.apache.avro.specific.SpecificRecord;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import java.util.function.Predicate;

/**
 * One job's case at the verifier, from its first TaskAssigned to its retirement, as a pure state
 * machine: it takes one input (a TaskAssigned, a TaskResult, a JobCommand, the matcher gate's SlashResult or
 * a tick of the wall clock), the time and the {@link Job} as the verifier keeps it, and returns the {@link Effects}:
 * the records to emit, in order, and the state that changed. It accepts or refuses results,
 * counts votes, asks {@link Consensus} for a decision, requests extra replicas when agreement has
 * become impossible, settles the escrow once ({@link Settlement}), scores reputation, handles
 * cancels and disputes ({@link Dispute}), and ends, forgets or retires a job when its time comes. It never touches
 * a store, the clock or Kafka; {@link JobVerifier} does, around it.
 */
final class JobCase {
    /**
     * One job as the verifier keeps it: {@code state} is null for a job it never saw (or retired);
     * {@code tasks} and its counted {@code results} are keyed by task id, the {@code orphans}
     * (results waiting for their task) by {@code <taskId>|<eventId>}.
     */
    record Job(String jobId, JobState state, SortedMap<String, TaskAssigned> tasks, Map<String, TaskResult> results,
               SortedMap<String, Orphan> orphans) {

        static Job unseen(String jobId) {
            return new Job(jobId, null, new TreeMap<>(), new HashMap<>(), new TreeMap<>());
        }

        /** The job once {@code c} is written: a job whose state is dropped takes its tasks and results with it. */
        Job after(Changes c) {
            boolean dropped = c.stateChanged() && c.state() == null;
            SortedMap<String, TaskAssigned> t = new TreeMap<>(dropped ? Map.of() : tasks);
            c.tasks().forEach(x -> t.put(x.getTaskId(), x));
            Map<String, TaskResult> r = new HashMap<>(dropped ? Map.of() : results);
            c.results().forEach(x -> r.put(x.getTaskId(), x));
            SortedMap<String, Orphan> o = new TreeMap<>(orphans);
            c.orphansRemoved().forEach(o::remove);
            o.putAll(c.orphansAdded());
            return new Job(jobId, c.stateChanged() ? c.state() : state, t, r, o);
        }
    }

    /** What one input did: the records to emit, in order, and the writes it asks for. */
    record Effects(List<Out> out, Changes changes) {
    }

    /** A record to emit. */
    sealed interface Out permits Emit, DeadLetter {
    }

    /**
     * A JobVerdict, JobEvent or JobCommand (key jobId), LedgerEntry (key clientId) or
     * ReputationChanged (key workerId); the value's type picks the topic ({@link VerifierTopology}).
     */
    record Emit(String key, SpecificRecord value) implements Out {
    }

    /**
     * A refused input (TaskResult, TaskAssigned, JobCommand or SlashResult), for {@code agora.dlq} with the
     * reason; {@code key} is the key of its own topic.
     */
    record DeadLetter(String key, SpecificRecord record, String reason) implements Out {
    }

    /**
     * The writes one input asks for.
     *
     * @param state          the job's record afterwards (null: none kept)
     * @param stateChanged   whether {@code state} is not the record loaded
     * @param tasks          tasks to keep (new ones only)
     * @param results        results this input counted
     * @param orphansAdded   results to park until their task arrives, by orphan key
     * @param orphansRemoved orphan keys released or timed out
     * @param sweepAt        wall-clock time of the job's next sweep ({@link #sweepAt(JobState)}), -1 for none
     * @param retireAt       when a decided job's state is dropped ({@link #retireAt(JobState)}), -1 while undecided
     */
    record Changes(JobState state, boolean stateChanged, List<TaskAssigned> tasks, List<TaskResult> results,
                   Map<String, Orphan> orphansAdded, Set<String> orphansRemoved, long sweepAt, long retireAt) {
    }

    private final VerifierConfig cfg;
    private final Consensus consensus;
    private final Dispute dispute;
    private final Function<String, WorkerStanding> standings;
    private final ToLongFunction<String> stakes;
    private final Identity market;
    private final String matcherKey;
    /** The longest worker's reason a verdict quotes. */
    static final int REASON_MAX = 300;

    /**
     * {@code standings}: a worker's record (null for a newcomer), for weighted and adaptive
     * consensus; {@code market}: the market's key, which signs each verdict's receipt (Ed25519
     * signatures are deterministic, so the case stays a pure function of its inputs);
     * {@code matcherKey}: the matcher's public key (base64url), which must sign every task.
     */
    JobCase(VerifierConfig cfg, Function<String, WorkerStanding> standings, Identity market, String matcherKey) {
        this(cfg, standings, w -> 0L, market, matcherKey);
    }

    /** {@code stakes}: a worker's bonded stake (0 when none), for stake-weighted consensus. */
    JobCase(VerifierConfig cfg, Function<String, WorkerStanding> standings, ToLongFunction<String> stakes, Identity market,
            String matcherKey) {
        this.cfg = cfg;
        this.consensus = new Consensus(cfg);
        this.dispute = new Dispute(cfg, consensus, market);
        this.standings = standings;
        this.stakes = stakes;
        this.market = market;
        this.matcherKey = matcherKey;
    }

    Effects onTask(TaskAssigned t, long now, Job job) {
        Step step = new Step(job, now);
        step.task(t);
        return step.effects();
    }

    Effects onResult(TaskResult r, long now, Job job) {
        Step step = new Step(job, now);
        step.result(r, now);
        return step.effects();
    }

    Effects onCommand(JobCommand c, long now, Job job) {
        return inBounds(c, c.getJobId(), Bounds.of(c), now, job, step -> {
            switch (c.getType()) {
                case CANCEL -> step.cancel(c);
                case DISPUTE -> dispute.open(c, step);
                case REPLICA_FAILED -> step.replicaFailed(c);
                case REQUEST_REPLICAS -> { } // our own hand-off to the matcher
            }
        });
    }

    /** What the matcher's gate took carrying out a SLASH of this job's dispute ({@link Dispute#slashed}). */
    Effects onSlash(SlashResult r, long now, Job job) {
        return inBounds(r, r.getJobId(), Bounds.of(r), now, job, step -> dispute.slashed(r, step));
    }

    /** One step on {@code input}, dead-lettered (key {@code key}) when it is out of bounds, else taken by {@code take}. */
    private Effects inBounds(SpecificRecord input, String key, Optional<String> outOfBounds, long now, Job job,
                             java.util.function.Consumer<Step> take) {
        Step step = new Step(job, now);
        if (outOfBounds.isPresent()) {
            step.out.add(new DeadLetter(key, input, outOfBounds.get()));
        } else {
            take.accept(step);
        }
        return step.effects();
    }

    /**
     * The wall clock: an open job past its deadline ends EXPIRED, a dispute open at the deadline
     * is decided, a job known only by commands is forgotten after {@code pendingCancelTtl},
     * results that waited {@code orphanTimeout} for their task go to the DLQ as {@code unknown task},
     * and a decided job's state is dropped {@code retention} after its deadline.
     */
    Effects onTick(long now, Job job) {
        Step step = new Step(job, now);
        step.tick();
        return step.effects();
    }

    /**
     * When the job next needs the wall clock, -1 never: a job known only by commands at
     * {@code cancelSeenAt + pendingCancelTtl}; an undecided job, or one in a dispute, at its deadline.
     */
    long sweepAt(JobState s) {
        if (s == null) {
            return -1;
        }
        if (s.first == null) {
            return s.cancelSeenAt + cfg.pendingCancelTtl().toMillis();
        }
        if (!s.settled || Dispute.isOpen(s)) {
            return s.first.getTerms().getDeadline().toEpochMilli();
        }
        return -1;
    }

    /**
     * When a decided job's state is dropped: {@code retention} after its deadline (or its verdict, if later); a job
     * whose overturned dispute still awaits slash results ({@link Dispute#awaitsSlashes}) is kept one {@code retention}
     * more for them, and retires then without its settlement receipt ({@link Dispute#unsettled}).
     */
    long retireAt(JobState s) {
        if (s == null || !s.settled) {
            return -1;
        }
        long retire = Math.max(s.first.getTerms().getDeadline().toEpochMilli(), s.decidedAt) + cfg.retention().toMillis();
        return Dispute.awaitsSlashes(s) ? retire + cfg.retention().toMillis() : retire;
    }

    /** Casts a ballot: for an output, or for a failure of the job's own ({@link #isJobFailure}). */
    static boolean isVote(TaskResult r) {
        return hasOutput(r) || isJobFailure(r);
    }

    /** SUCCEEDED or FAILED_EXIT (a non-zero exit is an output like any other): votes with its output hash. */
    static boolean hasOutput(TaskResult r) {
        return r.getStatus() == ResultStatus.SUCCEEDED || r.getStatus() == ResultStatus.FAILED_EXIT;
    }

    /**
     * The job's own failures, TIMEOUT, OUT_OF_MEMORY and OUTPUT_OVER_CAPS (it wrote more under /outputs than
     * the worker keeps): the job fails this way on any machine, so replicas agreeing on one decide the job
     * FAILED, and the client pays the time they measured.
     */
    static final Set<ResultStatus> JOB_FAILURES = java.util.EnumSet.of(ResultStatus.TIMEOUT, ResultStatus.OUT_OF_MEMORY,
            ResultStatus.OUTPUT_OVER_CAPS);

    static boolean isJobFailure(TaskResult r) {
        return JOB_FAILURES.contains(r.getStatus());
    }

    /**
     * The market's failure (SANDBOX_ERROR, IMAGE_MISSING, IMAGE_PULL_FAILED): no ballot, costs its worker
     * {@code repFailed}, and the job may get another replica; if it gets none, all is refunded.
     */
    static boolean isFailure(TaskResult r) {
        return !isVote(r) && r.getStatus() != ResultStatus.HANDED_BACK;
    }

    /** What a result votes for: its output hash, or its failure class (never 64 hex digits). */
    static String ballot(TaskResult r) {
        return hasOutput(r) ? r.getOutputSha256() : r.getStatus().name();
    }

    static boolean isFailureClass(String ballot) {
        return JOB_FAILURES.stream().anyMatch(f -> f.name().equals(ballot));
    }

    private static boolean disputeOpen(JobState s) {
        return s.disputeFrom >= 0 && !s.disputeResolved;
    }

    /** One input's work on a copy of the job, recording every write and record on the way. */
    private final class Step implements Dispute.Case {
        private final String jobId;
        private final long now;
        private JobState s;
        private boolean stateChanged;
        /** This step's REPLICA_FAILED says no worker of the pool could take a replica ({@link Eligibility#NO_ELIGIBLE_WORKER}). */
        private String noEligibleWorker;
        private final SortedMap<String, TaskAssigned> tasks;
        private final Map<String, TaskResult> results;
        private final SortedMap<String, Orphan> orphans;
        private final List<TaskAssigned> tasksAdded = new ArrayList<>();
        private final List<TaskResult> resultsAdded = new ArrayList<>();
        private final Map<String, Orphan> orphansAdded = new LinkedHashMap<>();
        private final Set<String> orphansRemoved = new LinkedHashSet<>();
        private final List<Out> out = new ArrayList<>();
        private final CaseRecords records;

        Step(Job job, long now) {
            this.jobId = job.jobId();
            this.now = now;
            this.records = new CaseRecords(jobId, now);
            this.s = job.state() == null ? null : job.state().copy();
            this.tasks = new TreeMap<>(job.tasks());
            this.results = new HashMap<>(job.results());
            this.orphans = new TreeMap<>(job.orphans());
        }

        Effects effects() {
            return new Effects(List.copyOf(out), new Changes(s, stateChanged, List.copyOf(tasksAdded),
                    List.copyOf(resultsAdded), Collections.unmodifiableMap(orphansAdded),
                    Collections.unmodifiableSet(orphansRemoved), sweepAt(s), retireAt(s)));
        }

        // ---- tasks ---------------------------------------------------------------------

        /**
         * A task the matcher did not sign ({@link Assignments}) is dead-lettered and otherwise
         * ignored: it neither opens a job nor counts. A task out of {@link Bounds} is dead-lettered
         * and never kept, so no result counts for it;
         * when its job id and terms are in bounds and the job has no first task yet, it still opens
         * the job (its terms are the matcher's escrow), which then ends and refunds like any other.
         */
        void task(TaskAssigned t) {
            Optional<String> forged = Assignments.problem(t, matcherKey);
            if (forged.isPresent()) {
                out.add(new DeadLetter(t.getWorkerId(), t, forged.get()));
                return;
            }
            Optional<String> outOfBounds = Bounds.of(t);
            if (outOfBounds.isPresent()) {
                out.add(new DeadLetter(t.getWorkerId(), t, outOfBounds.get()));
                if (Bounds.ofJob(t.getJobId(), t.getTerms()).isPresent() || (s != null && s.first != null)) {
                    return;
                }
            } else if (!t.equals(tasks.put(t.getTaskId(), t))) {
                tasksAdded.add(t);
            }
            boolean first = s == null || s.first == null;
            if (first) {
                boolean cancel = s != null && s.cancelRequested;
                if (s == null) {
                    s = new JobState();
                }
                s.first = t;
                stateChanged = true;
                if (cancel) {
                    finish(Outcome.CANCELLED, null, "cancelled by client before the verifier saw the job");
                }
            }
            releaseOrphans();
            if (first && !s.settled && !s.failedReplicas.isEmpty()) {
                evaluate(); // REPLICA_FAILED commands that overtook the first task
            }
        }

        private void releaseOrphans() {
            List<Map.Entry<String, Orphan>> ready = waiting(o -> tasks.containsKey(o.result().getTaskId()));
            for (Map.Entry<String, Orphan> e : ready) {
                removeOrphan(e.getKey());
                result(e.getValue().result(), e.getValue().arrivedAt());
            }
        }

        /** The orphans that {@code which}, copied: a TreeMap's own entries change under removals. */
        private List<Map.Entry<String, Orphan>> waiting(Predicate<Orphan> which) {
            return orphans.entrySet().stream().filter(e -> which.test(e.getValue()))
                    .map(e -> Map.entry(e.getKey(), e.getValue())).toList();
        }

        private void removeOrphan(String key) {
            orphans.remove(key);
            orphansAdded.remove(key);
            orphansRemoved.add(key);
        }

        // ---- results -------------------------------------------------------------------

        /** {@code receivedAt}: when it reached the verifier (a parked result: when it arrived). */
        void result(TaskResult r, long receivedAt) {
            if (r.getStatus() == ResultStatus.HANDED_BACK) {
                return; // the matcher routes the task again
            }
            Optional<String> outOfBounds = Bounds.of(r);
            if (outOfBounds.isPresent()) {
                deadLetter(r, outOfBounds.get());
                return;
            }
            String expected = r.getJobId() + "/" + r.getReplica() + "/" + r.getAttempt();
            if (!expected.equals(r.getTaskId())) {
                deadLetter(r, "malformed task id: expected " + expected);
                return;
            }
            TaskAssigned task = tasks.get(r.getTaskId());
            if (task == null) {
                String key = r.getTaskId() + "|" + r.getEventId();
                Orphan o = new Orphan(receivedAt, r);
                orphans.put(key, o);
                orphansRemoved.remove(key);
                orphansAdded.put(key, o);
                return;
            }
            if (!task.getWorkerId().equals(r.getWorkerId())) {
                deadLetter(r, "not assigned to this worker");
                return;
            }
            if (!Signatures.verify(r, task.getWorkerId())) {
                deadLetter(r, "bad signature");
                return;
            }
            TaskResult before = results.get(r.getTaskId());
            if (before != null) {
                if (!before.equals(r)) {
                    deadLetter(r, "conflicting duplicate");
                }
                return; // a redelivery
            }
            results.put(r.getTaskId(), r);
            resultsAdded.add(r);
            s.counted.add(r.getTaskId());
            s.receivedAt.put(r.getTaskId(), receivedAt);
            stateChanged = true;

            if (!s.settled) {
                replicaFinished(r);
                evaluate();
            } else if (s.isDisputeReplica(r.getReplica())) {
                replicaFinished(r);
                dispute.evaluate(false, this);
            } else {
                scoreLate(r);
            }
        }

        private void replicaFinished(TaskResult r) {
            event(JobEventType.REPLICA_FINISHED, r.getStatus().name(), r.getWorkerId(), r.getReplica(), r.getAttempt());
            if (isFailure(r) || (s.settled && isJobFailure(r))) { // a dispute replica's failure decides nothing
                reputation(r.getWorkerId(), cfg.repFailed(), "replica failed: " + r.getStatus());
            }
        }

        /** After the verdict: scored against the consensus (if the job has one), never paid. */
        private void scoreLate(TaskResult r) {
            if (isFailure(r)) {
                reputation(r.getWorkerId(), cfg.repFailed(), "replica failed: " + r.getStatus() + " (late)");
            } else if (s.consensusHash != null && isVote(r)) {
                score(r, s.consensusHash, " (late)");
            }
        }

        /** A ballot against the consensus: agreeing +5; a dissenting output -10, a dissenting failure -5. */
        private void score(TaskResult r, String consensusBallot, String suffix) {
            if (ballot(r).equals(consensusBallot)) {
                reputation(r.getWorkerId(), cfg.repAgree(), "agreed with consensus" + suffix);
            } else if (isJobFailure(r)) {
                reputation(r.getWorkerId(), cfg.repFailed(), "replica failed: " + r.getStatus() + suffix);
            } else {
                reputation(r.getWorkerId(), cfg.repDissent(), "dissented from consensus" + suffix);
            }
        }

        // ---- consensus -----------------------------------------------------------------

        private void evaluate() {
            JobTerms terms = s.first.getTerms();
            List<TaskResult> ballots = votes();
            List<Consensus.Vote> votes = new ArrayList<>();
            for (TaskResult r : ballots) {
                votes.add(new Consensus.Vote(r.getWorkerId(), r.getReplica(), ballot(r)));
            }
            Set<Integer> finished = new HashSet<>(s.failedReplicas);
            for (String taskId : s.counted) {
                finished.add(results.get(taskId).getReplica());
            }
            int slots = s.slots();
            int outstanding = 0;
            for (int replica = 0; replica < slots; replica++) {
                if (!finished.contains(replica)) {
                    outstanding++;
                }
            }
            Consensus.Decision d = consensus.decide(terms.getStrategy(), terms.getRedundancy(), terms.getQuorum(),
                    votes, outstanding, this::standing, stakes);
            switch (d.kind()) {
                case ACCEPT -> {
                    if (isFailureClass(d.hash())) {
                        long agreeing = votes.stream().filter(v -> v.hash().equals(d.hash())).count();
                        finish(Outcome.FAILED, d.hash(), failureEvidence(d.hash(), agreeing, finished.size()));
                    } else {
                        finish(Outcome.COMPLETED, d.hash(), null);
                    }
                }
                case WAIT -> { }
                case NEED_MORE -> {
                    if (noEligibleWorker == null && slots + d.needed() <= terms.getMaxTotalResults()) {
                        s.extraRequested += d.needed();
                        stateChanged = true;
                        requestReplicas(slots, d.needed(), "agreement impossible with " + votes.size()
                                + " votes and " + outstanding + " outstanding");
                    } else if (votes.isEmpty()) {
                        finish(Outcome.FAILED, null, "no valid result from " + finished.size() + " of " + slots + " replicas ("
                                + tally(marketFailures()) + "): the market's failure, all refunded" + failureReasons());
                    } else {
                        long outputs = ballots.stream().filter(JobCase::hasOutput).map(TaskResult::getOutputSha256).distinct().count();
                        finish(Outcome.NO_CONSENSUS, null, "no agreement among " + votes.size() + " votes ("
                                + tally(ballots.stream().map(r -> hasOutput(r) ? "output " + r.getOutputSha256().substring(0, 8)
                                : r.getStatus().name()).toList()) + "): agreement needs " + d.needed() + " more replicas and "
                                + (noEligibleWorker != null ? noEligibleWorker
                                : "maxTotalResults " + terms.getMaxTotalResults() + " leaves no room") + ", all refunded"
                                + (outputs > 1 ? "; the replicas' outputs differ: the job may not be deterministic" : ""));
                    }
                }
            }
        }

        /** "TIMEOUT after 15 s on 2 of 2 replicas: ...", the evidence of a failure that decided the job. */
        private String failureEvidence(String failureClass, long agreeing, int finished) {
            JobSpec spec = s.first.getSpec();
            String how = ResultStatus.TIMEOUT.name().equals(failureClass)
                    ? " after " + java.math.BigDecimal.valueOf(spec.getTimeoutMs(), 3).stripTrailingZeros().toPlainString() + " s"
                    : ResultStatus.OUT_OF_MEMORY.name().equals(failureClass) && spec.getMemoryMb() > 0
                    ? " at " + spec.getMemoryMb() + " MiB" : "";
            return failureClass + how + " on " + agreeing + " of " + finished
                    + " replicas: the job's own failure, the client pays the time measured";
        }

        /** How each replica that finished without a ballot failed: its latest result, or REPLICA_FAILED. */
        private List<String> marketFailures() {
            Map<Integer, String> how = new TreeMap<>();
            s.failedReplicas.forEach(r -> how.put(r, "REPLICA_FAILED"));
            for (String taskId : s.counted) {
                TaskResult r = results.get(taskId);
                if (isFailure(r)) {
                    how.put(r.getReplica(), r.getStatus().name());
                }
            }
            return new ArrayList<>(how.values());
        }

        /**
         * What the workers said of the market's failures, each distinct one once ("; IMAGE_PULL_FAILED: pull of
         * x@sha256:... failed: manifest unknown"), each cut at {@link #REASON_MAX} characters; "" when none said.
         */
        private String failureReasons() {
            Set<String> said = new LinkedHashSet<>();
            for (String taskId : s.counted) {
                TaskResult r = results.get(taskId);
                if (isFailure(r) && r.getStatusReason() != null && !r.getStatusReason().isBlank()) {
                    String why = r.getStatusReason();
                    said.add(r.getStatus() + ": " + (why.length() > REASON_MAX ? why.substring(0, REASON_MAX) + "…" : why));
                }
            }
            return said.isEmpty() ? "" : "; " + String.join("; ", said);
        }

        /** "2 TIMEOUT, 1 output 1a2b3c4d": how many of each, in name order. */
        private static String tally(List<String> names) {
            Map<String, Integer> n = new TreeMap<>();
            names.forEach(x -> n.merge(x, 1, Integer::sum));
            return String.join(", ", n.entrySet().stream().map(e -> e.getValue() + " " + e.getKey()).toList());
        }

        /**
         * The votes, in arrival order: one per replica slot, the result of the slot's latest attempt
         * counted (a result of an earlier attempt, handed back or reassigned, is superseded and never
         * adds a vote), and one per worker.
         */
        private List<TaskResult> votes() {
            Map<Integer, TaskResult> latest = new HashMap<>();
            for (String taskId : s.counted) {
                TaskResult r = results.get(taskId);
                latest.merge(r.getReplica(), r, (a, b) -> b.getAttempt() > a.getAttempt() ? b : a);
            }
            List<TaskResult> votes = new ArrayList<>();
            Set<String> voters = new HashSet<>();
            for (String taskId : s.counted) {
                TaskResult r = results.get(taskId);
                if (latest.get(r.getReplica()) == r && isVote(r) && voters.add(r.getWorkerId())) {
                    votes.add(r);
                }
            }
            return votes;
        }

        private WorkerStanding standing(String workerId) {
            WorkerStanding w = standings.apply(workerId);
            return w == null ? WorkerStanding.NEWCOMER : w;
        }

        @Override
        public void requestReplicas(int from, int count, String reason) {
            Set<String> holders = new LinkedHashSet<>();
            tasks.values().forEach(t -> holders.add(t.getWorkerId()));
            emit(jobId, records.requestReplicas(s.first.getTerms(), from, count, new ArrayList<>(holders), reason));
        }

        // ---- settlement ----------------------------------------------------------------

        /** The job's one verdict: settles the escrow, scores the voters, closes the job. */
        private void finish(Outcome outcome, String hash, String reason) {
            if (s.settled) {
                return;
            }
            JobTerms terms = s.first.getTerms();
            String clientId = terms.getClientId();
            List<String> agreeing = new ArrayList<>();
            List<String> dissenting = new ArrayList<>();
            List<TaskResult> scoredVotes = new ArrayList<>();
            List<TaskResult> superseded = new ArrayList<>();
            TaskResult exemplar = null;
            Settlement.Plan plan;
            Map<String, Pricing.Breakdown> parts = new HashMap<>();
            if (hash != null) { // COMPLETED, or FAILED by a failure class: the agreeing replicas are paid their time
                List<Settlement.Share> earned = new ArrayList<>();
                List<TaskResult> votes = votes();
                scoredVotes.addAll(votes);
                for (TaskResult r : votes) {
                    if (ballot(r).equals(hash)) {
                        agreeing.add(r.getWorkerId());
                        long receivedAt = s.receivedAt.getOrDefault(r.getTaskId(), now);
                        earned.add(new Settlement.Share(r.getWorkerId(), Settlement.earned(tasks.get(r.getTaskId()), r,
                                receivedAt)));
                        parts.put(r.getWorkerId(), Settlement.earnedParts(tasks.get(r.getTaskId()), r, receivedAt));
                    } else {
                        dissenting.add(r.getWorkerId());
                    }
                }
                Set<String> scored = new HashSet<>(agreeing);
                scored.addAll(dissenting);
                for (String taskId : s.counted) {
                    TaskResult r = results.get(taskId);
                    if (isVote(r) && !votes.contains(r) && scored.add(r.getWorkerId())) {
                        superseded.add(r);
                    }
                }
                plan = Settlement.completed(terms.getEscrowMicros(), earned);
                if (outcome == Outcome.COMPLETED) {
                    exemplar = servable(hash);
                    if (reason == null) {
                        reason = agreeing.size() + " agreeing, " + dissenting.size() + " dissenting";
                    }
                    if (exemplar == null) {
                        reason += "; no output served: no result's stdout hashes to the agreed output (truncated or altered)";
                    }
                }
            } else {
                plan = Settlement.refundAll(terms.getEscrowMicros());
            }
            for (LedgerEntry e : Settlement.entries(jobId, clientId, plan, now)) {
                emit(clientId, e);
            }
            String agreedHash = outcome == Outcome.COMPLETED ? hash : null;
            emit(jobId, JobVerdict.newBuilder()
                    .setEventId(UUID.nameUUIDFromBytes(("verdict:" + jobId).getBytes(StandardCharsets.UTF_8)).toString())
                    .setJobId(jobId)
                    .setClientId(clientId)
                    .setOutcome(outcome)
                    .setConsensusHash(agreedHash)
                    .setOutput(exemplar == null ? null : exemplar.getStdout())
                    .setOutputTruncated(exemplar != null && exemplar.getStdoutTruncated())
                    .setStderr(exemplar == null ? null : exemplar.getStderr())
                    .setStderrTruncated(exemplar != null && exemplar.getStderrTruncated())
                    .setFiles(exemplar == null ? Map.of() : new TreeMap<>(exemplar.getOutputFiles()))
                    .setExitCode(exemplar == null ? -1 : exemplar.getExitCode())
                    .setAgreeing(agreeing)
                    .setDissenting(dissenting)
                    .setCostMicros(plan.costMicros())
                    .setGpuCostMicros(Settlement.costParts(plan, parts).gpuMicros())
                    .setMemoryCostMicros(Settlement.costParts(plan, parts).memoryMicros())
                    .setRefundMicros(plan.refundMicros())
                    .setReason(reason)
                    .setSubmittedAt(terms.getSubmittedAt())
                    .setDecidedAt(Instant.ofEpochMilli(now))
                    .setReceipt(Receipts.sign(Settlement.receipt(jobId, clientId, outcome, agreedHash,
                            terms.getEscrowMicros(), plan, now), market))
                    .build());
            event(JobEventType.VERDICT, outcome + (reason == null ? "" : ": " + reason), null, -1, -1);
            event(JobEventType.valueOf(outcome.name()), reason, null, -1, -1);
            for (TaskResult r : scoredVotes) {
                score(r, hash, "");
            }
            for (TaskResult r : superseded) { // an earlier attempt's result: scored like a late one, never paid
                score(r, hash, " (superseded attempt)");
            }
            s.settled = true;
            s.outcome = outcome;
            s.consensusHash = hash;
            s.decidedAt = now;
            s.agreeing.addAll(agreeing);
            s.dissenting.addAll(dissenting);
            stateChanged = true;
        }

        /**
         * The first counted result whose own stdout, exit code and output files hash
         * ({@link OutputHash}) to the agreed hash: only such bytes are served as the job's output.
         * A reported hash is a claim; the bytes are checked here. Null when none does (stdout cut at
         * the worker's inline limit, or altered).
         */
        private TaskResult servable(String hash) {
            for (String taskId : s.counted) {
                TaskResult r = results.get(taskId);
                if (hasOutput(r) && hash.equals(OutputHash.of(r.getExitCode(), r.getStdout().getBytes(StandardCharsets.UTF_8),
                        r.getOutputFiles()))) {
                    return r;
                }
            }
            return null;
        }

        // ---- commands ------------------------------------------------------------------

        /**
         * Idempotent. A decided job ignores it. A job not seen yet remembers it and is cancelled
         * when its first task arrives (until {@code pendingCancelTtl}: the matcher cancels queued
         * jobs itself, and those never reach us). No verdict means no payouts: all is refunded.
         */
        void cancel(JobCommand c) {
            if (s == null || s.first == null) {
                remember();
                s.cancelRequested = true;
                return;
            }
            if (s.settled) {
                return;
            }
            s.cancelRequested = true;
            finish(Outcome.CANCELLED, null, c.getReason() == null ? "cancelled by client" : c.getReason());
        }

        /** A command for a job whose first task has not arrived: kept from now until {@code pendingCancelTtl}. */
        private void remember() {
            if (s == null) {
                s = new JobState();
                s.cancelSeenAt = now;
            }
            stateChanged = true;
        }

        /**
         * The matcher gave up on a replica (attempts exhausted, a requested replica it will not
         * place, or the job's deadline passed): the replica is finished without a vote. Commands
         * and tasks come on different topics, read in no fixed order, so it may overtake the job's
         * first task: then it is remembered like a pending cancel and counted when the task arrives.
         */
        void replicaFailed(JobCommand c) {
            if (c.getReplica() < 0) {
                return;
            }
            if (s == null) {
                remember();
            }
            if (!s.failedReplicas.add(c.getReplica())) {
                return;
            }
            stateChanged = true;
            if (s.first == null) {
                return;
            }
            if (!s.settled) {
                event(JobEventType.REPLICA_FINISHED, "REPLICA_FAILED" + (c.getReason() == null ? "" : ": " + c.getReason()),
                        null, c.getReplica(), -1);
                if (c.getReason() != null && c.getReason().startsWith(Eligibility.NO_ELIGIBLE_WORKER)) {
                    noEligibleWorker = c.getReason();
                }
                evaluate();
            } else if (s.isDisputeReplica(c.getReplica())) {
                dispute.evaluate(false, this);
            }
        }

        // ---- the wall clock ------------------------------------------------------------

        void tick() {
            long due = sweepAt(s);
            if (due >= 0 && now >= due) {
                if (s.first == null) {
                    s = null; // commands for a job that never came
                    stateChanged = true;
                } else if (!s.settled) {
                    finish(Outcome.EXPIRED, null, "deadline passed");
                } else {
                    dispute.evaluate(true, this);
                }
            }
            for (Map.Entry<String, Orphan> e : waiting(o -> o.timedOut(now, cfg.orphanTimeout()))) {
                removeOrphan(e.getKey());
                deadLetter(e.getValue().result(), "unknown task");
            }
            long retire = retireAt(s);
            if (retire >= 0 && now >= retire && !Dispute.isOpen(s)) {
                // the money was settled with the verdict and the gate books the slashes: nothing is owed to or by a retired job
                if (Dispute.awaitsSlashes(s)) {
                    dispute.unsettled(this);
                }
                s = null;
                stateChanged = true;
            }
        }

        // ---- output --------------------------------------------------------------------

        @Override
        public void emit(String key, SpecificRecord value) {
            out.add(new Emit(key, value));
        }

        @Override
        public void refuse(SpecificRecord input, String reason) {
            out.add(new DeadLetter(jobId, input, reason));
        }

        private void deadLetter(TaskResult r, String reason) {
            out.add(new DeadLetter(r.getJobId(), r, reason));
        }

        private void event(JobEventType type, String reason, String workerId, int replica, int attempt) {
            emit(jobId, records.event(s.first.getTerms(), type, reason, workerId, replica, attempt));
        }

        private void reputation(String workerId, int delta, String reason) {
            emit(workerId, records.reputation(workerId, delta, reason, null));
        }

        // ---- what a dispute reads and writes ----------------------------------------------

        @Override
        public JobState state() {
            return s;
        }

        @Override
        public Map<String, TaskAssigned> tasks() {
            return tasks;
        }

        @Override
        public Map<String, TaskResult> results() {
            return results;
        }

        @Override
        public long now() {
            return now;
        }

        @Override
        public CaseRecords records() {
            return records;
        }

        @Override
        public void changed() {
            stateChanged = true;
        }
    }
}
