package io.agora.verifier;

import io.agora.events.JobCommand;
import io.agora.events.JobEvent;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.ReputationChanged;
import io.agora.events.SlashResult;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.runtime.Polls;
import io.agora.runtime.Commits;
import io.agora.runtime.Punctuations;
import io.agora.runtime.Emission;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.Identity;
import io.agora.schemas.Topics;
import io.agora.schemas.Traces;
import io.opentelemetry.api.trace.SpanKind;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The verifier's per-job processor, keyed by jobId. Input: TaskAssigned (re-keyed by job),
 * TaskResult, JobCommand and SlashResult, and a wall-clock punctuator. For each it loads the job
 * ({@code verifier-jobs}, one {@link JobRecord} with its tasks and results, and its {@code verifier-orphans}),
 * lets {@link JobCase} decide, writes what changed, the job's record at most once (keeping the sweep
 * indexes, {@link OpenJobs} in memory and {@code verifier-retire}, in step) and forwards the records.
 * Output values, routed by type in {@link VerifierTopology}: JobVerdict, JobEvent, LedgerEntry
 * (key clientId), ReputationChanged (key workerId), JobCommand (REQUEST_REPLICAS) and
 * {@code byte[]} dead letters with DLQ headers.
 */
final class JobVerifier implements Processor<String, SpecificRecord, String, Emission> {
    private static final Logger log = LoggerFactory.getLogger(JobVerifier.class);
    private static final StringSerializer KEY = new StringSerializer();

    private final VerifierConfig cfg;
    private final AgoraSerdes serdes;
    private final Identity market;
    private final String matcherKey;

    private ProcessorContext<String, Emission> ctx;
    private JobCase cases;
    private KeyValueStore<String, JobRecord> jobs;
    /** Former stores of a job's tasks and results, read and emptied for the jobs a build before {@link JobRecord} kept. */
    private KeyValueStore<String, TaskAssigned> tasks;
    private KeyValueStore<String, TaskResult> results;
    private KeyValueStore<String, Orphan> orphans;
    /** Open jobs by the time of their next sweep, built at the task's first sweep (null until then). */
    private OpenJobs open;
    /** Where a build before {@link OpenJobs} kept that index: emptied at the first sweep (the records say the same). */
    private KeyValueStore<String, Long> formerOpen;
    /** Decided jobs by the time their state is dropped: key {@link #retireKey}, value jobId. */
    private KeyValueStore<String, String> retire;
    /**
     * The sweep's interval while no job is open and no result waits: only retirements, days apart, are due
     * then, and each sweep is a transaction ({@link Punctuations#adaptive}). Any input brings the
     * configured interval back.
     */
    static final Duration IDLE_SWEEP = Duration.ofSeconds(30);
    private Punctuations.Adaptive sweeps;
    /** Timestamp of the records forwarded by the current process or punctuate call. */
    private long outTs;
    private Headers trace = new RecordHeaders();

    /**
     * {@code serdes}: those of the market topics, to dead-letter a refused input as its own topic's
     * bytes; {@code market}: the key that signs the receipts ({@link MarketKey}); {@code matcherKey}:
     * the matcher's public key, which every task must be signed by.
     */
    JobVerifier(VerifierConfig cfg, AgoraSerdes serdes, Identity market, String matcherKey) {
        this.cfg = cfg;
        this.serdes = serdes;
        this.market = market;
        this.matcherKey = matcherKey;
    }

    @Override
    public void init(ProcessorContext<String, Emission> context) {
        this.ctx = context;
        jobs = context.getStateStore(VerifierTopology.JOBS_STORE);
        tasks = context.getStateStore(VerifierTopology.TASKS_STORE);
        results = context.getStateStore(VerifierTopology.RESULTS_STORE);
        orphans = context.getStateStore(VerifierTopology.ORPHANS_STORE);
        open = null;
        formerOpen = context.getStateStore(VerifierTopology.OPEN_STORE);
        retire = context.getStateStore(VerifierTopology.RETIRE_STORE);
        KeyValueStore<String, WorkerStanding> standings = context.getStateStore(VerifierTopology.REPUTATION_STORE);
        KeyValueStore<String, Long> stakes = context.getStateStore(VerifierTopology.STAKES_STORE);
        cases = new JobCase(cfg, standings::get, w -> {
            Long bonded = stakes.get(w);
            return bonded == null ? 0 : bonded;
        }, market, matcherKey);
        sweeps = Punctuations.adaptive(context, cfg.punctuateInterval(), IDLE_SWEEP, this::sweep);
    }

    @Override
    public void process(Record<String, SpecificRecord> rec) {
        sweeps.wake();
        outTs = rec.timestamp();
        // what this record causes (a verdict on the deciding result, say) continues its trace
        trace = new RecordHeaders();
        if (Traces.traceId(rec.headers()) != null) {
            Traces.hop("verifier", SpanKind.CONSUMER, rec.headers(), trace);
        }
        long now = ctx.currentSystemTimeMs();
        SpecificRecord v = rec.value();
        if (v instanceof TaskAssigned t) {
            run(t.getJobId(), job -> cases.onTask(t, now, job), false);
        } else if (v instanceof TaskResult r) {
            if (!r.getJobId().equals(rec.key())) {
                deadLetter(rec.key(), r, "record key is not the job id " + r.getJobId());
            } else {
                run(r.getJobId(), job -> cases.onResult(r, now, job), false);
            }
        } else if (v instanceof JobCommand c) {
            run(c.getJobId(), job -> cases.onCommand(c, now, job), false);
        } else if (v instanceof SlashResult r) {
            if (!r.getJobId().equals(rec.key())) {
                deadLetter(rec.key(), r, "record key is not the job id " + r.getJobId());
            } else {
                run(r.getJobId(), job -> cases.onSlash(r, now, job), false);
            }
        }
    }

    /**
     * Ticks the jobs the wall clock has business with, in three passes as the indexes find them:
     * sweep time reached, a result that waited too long for its task, retention over. Judged at the time
     * the stream thread has fetched its input up to ({@link Polls}), not the bare wall clock: a thread busy
     * with a backlog goes seconds without a poll, and a result written before its job's deadline, or a
     * task before its orphan's timeout, must be read before the job is called EXPIRED or the result orphaned.
     */
    private boolean sweep(long wallNow) {
        outTs = wallNow;
        long now = Math.min(wallNow, Polls.fetchedUpTo());
        trace = new RecordHeaders();
        if (open == null) {
            open = indexed();
        }
        open.due(now).forEach(jobId -> run(jobId, job -> cases.onTick(now, job), true));

        Set<String> waiting = new LinkedHashSet<>();
        try (KeyValueIterator<String, Orphan> it = orphans.all()) {
            it.forEachRemaining(kv -> {
                if (kv.value.timedOut(now, cfg.orphanTimeout())) {
                    waiting.add(kv.value.result().getJobId());
                }
            });
        }
        waiting.forEach(jobId -> run(jobId, job -> cases.onTick(now, job), true));

        List<KeyValue<String, String>> retiring = new ArrayList<>();
        try (KeyValueIterator<String, String> it = retire.range(retireKey(0, ""), retireKey(now, "\uffff"))) {
            it.forEachRemaining(retiring::add);
        }
        for (KeyValue<String, String> kv : retiring) {
            retire.delete(kv.key);
            run(kv.value, job -> cases.onTick(now, job), true);
        }
        // an open job or a waiting result needs the next sweep on time; retirements (days away) do not
        return !open.isEmpty() || any(orphans);
    }

    /**
     * The open jobs of this task's records, read once (at a start, after a rebalance or a restore, every record
     * the task keeps, decided ones too); the index a build before {@link OpenJobs} kept is emptied.
     */
    private OpenJobs indexed() {
        OpenJobs index = new OpenJobs();
        try (KeyValueIterator<String, JobRecord> it = jobs.all()) {
            it.forEachRemaining(kv -> index.put(kv.key, cases.sweepAt(kv.value.state())));
        }
        List<String> former = new ArrayList<>();
        try (KeyValueIterator<String, Long> it = formerOpen.all()) {
            it.forEachRemaining(kv -> former.add(kv.key));
        }
        former.forEach(formerOpen::delete);
        if (!former.isEmpty()) {
            log.info("{} open jobs read from their records; the former index verifier-open emptied", index.size());
        }
        return index;
    }

    private static boolean any(KeyValueStore<String, ?> store) {
        try (KeyValueIterator<String, ?> it = store.all()) {
            return it.hasNext();
        }
    }

    /** Sorts by due time as a string: 19 zero-padded digits hold every non-negative long. */
    static String retireKey(long dueMs, String jobId) {
        return String.format("%019d|%s", Math.max(0, dueMs), jobId);
    }

    // ---- load, decide, write, forward --------------------------------------------------

    private void run(String jobId, Function<JobCase.Job, JobCase.Effects> decide, boolean tick) {
        Set<String> legacyTasks = new LinkedHashSet<>();
        Set<String> legacyResults = new LinkedHashSet<>();
        JobCase.Job job = load(jobId, legacyTasks, legacyResults);
        JobCase.Effects e = decide.apply(job);
        write(job, e.changes(), tick, legacyTasks, legacyResults);
        for (JobCase.Out o : e.out()) {
            if (o instanceof JobCase.DeadLetter d) {
                deadLetter(d.key(), d.record(), d.reason());
            } else if (o instanceof JobCase.Emit m) {
                if (m.value() instanceof JobVerdict v) {
                    log.info("job {} {}: cost {} refund {}", jobId, v.getOutcome(), v.getCostMicros(), v.getRefundMicros());
                    // the client waits for the verdict: commit after this loop, not at the next interval
                    Commits.soon(ctx, outTs);
                }
                ctx.forward(new Record<>(m.key(), Emission.of(topicOf(m.value()), m.value()), outTs,
                        new RecordHeaders(trace.toArray())));
            }
        }
    }

    /** The topic of each kind of record the job case emits. */
    private static String topicOf(SpecificRecord value) {
        if (value instanceof JobVerdict) {
            return Topics.VERDICTS.name();
        } else if (value instanceof JobEvent) {
            return Topics.JOB_EVENTS.name();
        } else if (value instanceof LedgerEntry) {
            return Topics.LEDGER.name();
        } else if (value instanceof ReputationChanged) {
            return Topics.REPUTATION.name();
        } else if (value instanceof JobCommand) {
            return Topics.JOB_COMMANDS.name();
        }
        throw new IllegalStateException("the verifier emits no " + value.getSchema().getFullName());
    }

    /**
     * The job as kept: its record, with the tasks and results a build before {@link JobRecord} kept in their own
     * stores (their keys go to {@code legacyTasks} and {@code legacyResults}, to be moved into the record).
     */
    private JobCase.Job load(String jobId, Set<String> legacyTasks, Set<String> legacyResults) {
        SortedMap<String, TaskAssigned> t = scan(tasks, jobId, TaskAssigned::getJobId, new TreeMap<>());
        Map<String, TaskResult> r = scan(results, jobId, TaskResult::getJobId, new HashMap<>());
        legacyTasks.addAll(t.keySet());
        legacyResults.addAll(r.keySet());
        JobRecord kept = jobs.get(jobId);
        if (kept != null) {
            t.putAll(kept.tasks());
            r.putAll(kept.results());
        }
        return new JobCase.Job(jobId, kept == null ? null : kept.state(), t, r,
                scan(orphans, jobId, o -> o.result().getJobId(), new TreeMap<>()));
    }

    /** The job's entries of a store keyed {@code <jobId>/...}. */
    private static <V, M extends Map<String, V>> M scan(KeyValueStore<String, V> store, String jobId,
                                                         Function<V, String> jobOf, M into) {
        try (KeyValueIterator<String, V> it = store.prefixScan(jobId + "/", KEY)) {
            it.forEachRemaining(kv -> {
                if (jobId.equals(jobOf.apply(kv.value))) {
                    into.put(kv.key, kv.value);
                }
            });
        }
        return into;
    }

    /**
     * The writes of one step: the job's record once, when its state, tasks or results changed (or it still had
     * some in the former stores); the indexes follow the job's state ({@code verifier-retire} checked when it
     * changed and on every tick).
     */
    private void write(JobCase.Job job, JobCase.Changes c, boolean tick, Set<String> legacyTasks, Set<String> legacyResults) {
        String jobId = job.jobId();
        JobCase.Job after = job.after(c);
        boolean moved = !legacyTasks.isEmpty() || !legacyResults.isEmpty();
        if (after.state() == null) {
            if (c.stateChanged()) {
                jobs.delete(jobId);
                log.debug("job {} dropped", jobId);
            }
        } else if (c.stateChanged() || !c.tasks().isEmpty() || !c.results().isEmpty() || moved) {
            jobs.put(jobId, new JobRecord(after.state(), after.tasks(), after.results()));
        }
        legacyTasks.forEach(tasks::delete);
        legacyResults.forEach(results::delete);
        c.orphansRemoved().forEach(orphans::delete);
        c.orphansAdded().forEach(orphans::put);
        if (open != null) { // else the first sweep reads it from the record
            open.put(jobId, c.sweepAt());
        }
        if (!c.stateChanged() && !tick) {
            return;
        }
        if (c.retireAt() >= 0 && retire.get(retireKey(c.retireAt(), jobId)) == null) {
            retire.put(retireKey(c.retireAt(), jobId), jobId);
        }
    }

    /**
     * The refused input, re-serialised with its own topic's serde, with the reason in headers; a
     * buffered or swept one has lost its place (-1).
     */
    private void deadLetter(String key, SpecificRecord v, String reason) {
        String topic;
        byte[] bytes;
        if (v instanceof TaskResult r) {
            topic = Topics.RESULTS.name();
            bytes = serdes.valueSerde(Topics.RESULTS).serializer().serialize(topic, r);
            log.warn("result {} of worker {} sent to DLQ: {}", cut(r.getTaskId()), cut(r.getWorkerId()), reason);
        } else if (v instanceof TaskAssigned t) {
            topic = Topics.ASSIGNMENTS.name();
            bytes = serdes.valueSerde(Topics.ASSIGNMENTS).serializer().serialize(topic, t);
            log.warn("task {} sent to DLQ: {}", cut(t.getTaskId()), reason);
        } else if (v instanceof SlashResult r) {
            topic = Topics.SLASHES.name();
            bytes = serdes.valueSerde(Topics.SLASHES).serializer().serialize(topic, r);
            log.warn("slash result of worker {} for job {} sent to DLQ: {}", cut(r.getTaken().getWorkerId()), cut(r.getJobId()), reason);
        } else {
            JobCommand c = (JobCommand) v;
            topic = Topics.JOB_COMMANDS.name();
            bytes = serdes.valueSerde(Topics.JOB_COMMANDS).serializer().serialize(topic, c);
            log.warn("command {} of job {} sent to DLQ: {}", c.getType(), cut(c.getJobId()), reason);
        }
        // from its own topic we know where it came from; a buffered or swept one lost that
        Optional<RecordMetadata> m = ctx.recordMetadata().filter(x -> topic.equals(x.topic()));
        int partition = m.map(RecordMetadata::partition).orElse(-1);
        long offset = m.map(RecordMetadata::offset).orElse(-1L);
        Headers h = DeadLetters.headers(VerifierConfig.APP_ID, reason, topic, partition, offset);
        ctx.forward(new Record<>(key, Emission.deadLetter(bytes), outTs, h));
    }

    /** An id for the log: a refused one may be any length. */
    private static String cut(String s) {
        return s.length() <= 100 ? s : s.substring(0, 100) + "...(" + s.length() + " characters)";
    }
}
