package io.agora.matcher;

import io.agora.events.TaskAssigned;
import io.agora.matcher.PoolState.Job;
import io.agora.matcher.PoolState.Worker;
import io.agora.runtime.Polls;
import io.agora.runtime.Punctuations;
import io.agora.schemas.Assignments;
import io.agora.schemas.Topics;
import io.agora.schemas.Identity;
import io.agora.schemas.TaskSeal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.apache.avro.specific.SpecificRecord;
import io.agora.schemas.Traces;
import io.agora.runtime.Commits;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import org.apache.avro.Schema;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.LinkedHashMap;

/**
 * The pool stage, keyed by pool: each pool's {@link PoolMarket} (registry, matching, dispatch,
 * leases, the queue) wired to its stores and to the clock.
 * Input: the repartition topic {@code agora-matcher-pool-events-repartition} (admitted jobs,
 * verified registrations and heartbeats, reputation, task results, job commands).
 * Outputs: TaskAssigned to {@code agora.jobs.tasks} (key workerId, a partition the worker owns,
 * also in header {@value #H_PARTITION}; its spec sealed to the worker, signed with the matcher's key; the same
 * record also to {@code agora.jobs.assignments}, key jobId, for the verifier), JobEvent (QUEUED, ASSIGNED, REASSIGNED, EXPIRED, CANCELLED),
 * JobVerdict and REFUND for jobs that end before any assignment, ReputationChanged (offline, lease
 * expired), and JobCommand REPLICA_FAILED when a replica runs out of attempts, when a requested
 * extra replica will not be placed, and for replicas still open when a running job is forgotten
 * after its deadline.
 *
 * <p>Stores {@value #WORKERS} (key {@code pool|workerId}) and {@value #JOBS} (key jobId) are the
 * durable copy, read once into the task's pool markets at start (where silence then counts from:
 * {@link PoolMarket#resume}); afterwards only the entries an input changed are written. A wall-clock punctuation ({@code agora.matcher.punctuate.ms}) ticks
 * every pool.
 */
final class PoolMarketProcessor implements Processor<String, Flow.PoolEvent, String, Flow> {
    static final String WORKERS = "matcher-pool-workers";
    static final String JOBS = "matcher-pool-jobs";
    static final String H_PARTITION = "agora.task.partition";
    private static final Logger log = LoggerFactory.getLogger(PoolMarketProcessor.class);

    private final MatcherConfig cfg;
    private final Identity matcher;
    private final MatcherMeters meters;
    /** Where the job input gate learns which of this task's pools have a job waiting ({@link ResultAsks}). */
    private final ResultAsks asks;
    private final Map<String, PoolMarket> markets = new LinkedHashMap<>();
    /**
     * The tick's interval while no pool has business within it ({@link PoolMarket#busyWithin}): every tick is an
     * exactly-once commit, which an idle matcher made every second. Any event but a beat brings back
     * {@code punctuate.ms}; the worker gate idles at the same instants, so one commit covers both.
     */
    static final Duration IDLE_TICK = Duration.ofSeconds(4);
    private Punctuations.Adaptive ticks;
    private ProcessorContext<String, Flow> ctx;
    private KeyValueStore<String, Worker> workerStore;
    private KeyValueStore<String, Job> jobStore;
    /**
     * How far behind its input the stage reads: the front stamps each pool event with the matcher's clock
     * and its own lag ({@link MatcherTopology.Stamp}), and a tick judges leases (and, off the gate, silences) by the time read up to.
     */
    private final MatcherTopology.FrontClocks read;
    /** Whether the input being handled is fresh: only then does a moved job ask for a commit at once ({@link Commits}). */
    private boolean freshInput = true;

    PoolMarketProcessor(MatcherConfig cfg, Identity matcher, MatcherMeters meters, ResultAsks asks) {
        this.cfg = cfg;
        this.matcher = matcher;
        this.meters = meters;
        this.asks = asks;
        this.read = new MatcherTopology.FrontClocks(cfg.workerGraceMs());
    }

    @Override
    public void init(ProcessorContext<String, Flow> context) {
        this.ctx = context;
        this.workerStore = context.getStateStore(WORKERS);
        this.jobStore = context.getStateStore(JOBS);
        markets.keySet().forEach(asks::forget);
        markets.clear();
        try (KeyValueIterator<String, Worker> it = workerStore.all()) {
            it.forEachRemaining(kv -> market(kv.value.pool).restore(kv.value));
        }
        try (KeyValueIterator<String, Job> it = jobStore.all()) {
            it.forEachRemaining(kv -> market(kv.value.pool).restore(kv.value));
        }
        // the stage was away until now (a start, or a takeover from a killed instance): silence counts from now
        long resumed = context.currentSystemTimeMs();
        markets.values().forEach(m -> apply(m, m.resume(resumed), resumed, NO_TRACE));
        ticks = Punctuations.adaptive(context, Duration.ofMillis(cfg.punctuateMs()), IDLE_TICK, now -> {
            boolean busy = false;
            freshInput = true;
            long heard = Math.min(read.heard(now), Polls.fetchedUpTo()); // nor what its thread has not fetched
            for (PoolMarket m : markets.values()) {
                long t0 = System.nanoTime();
                PoolMarket.Effects fx = m.tick(now, heard);
                meters.decided("tick", System.nanoTime() - t0);
                apply(m, fx, now, NO_TRACE);
                busy |= m.busyWithin(now, IDLE_TICK.toMillis());
            }
            return busy;
        });
    }

    @Override
    public void process(Record<String, Flow.PoolEvent> record) {
        if (!(record.value() instanceof Flow.Beat)) {
            ticks.wake(); // a beat only moves a worker's grace further away
        }
        long now = ctx.currentSystemTimeMs();
        read.read(now, record.timestamp(), record.headers());
        freshInput = Commits.fresh(now, record.timestamp());
        PoolMarket m = market(record.key());
        long t0 = System.nanoTime();
        // the front stamped the event as it handed it on (MatcherTopology.Stamp)
        PoolMarket.Effects fx = m.on(record.value(), now, record.timestamp());
        meters.decided(record.value().getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT), System.nanoTime() - t0);
        // the records this event causes continue its trace; an arriving job keeps it for what happens to it later
        Headers trace = new RecordHeaders();
        if (Traces.traceId(record.headers()) != null) {
            Traces.hop("matching", SpanKind.INTERNAL, record.headers(), trace);
            if (record.value() instanceof Flow.Admitted a) {
                Job job = m.job(a.job().getJobId());
                Header tp = trace.lastHeader(Traces.HEADER);
                if (job != null && job.traceparent == null && tp != null && fx.savedJobs().contains(job)) {
                    job.traceparent = new String(tp.value(), StandardCharsets.UTF_8);
                }
            }
        }
        apply(m, fx, now, trace);
    }

    /**
     * The trace a record about a job continues: its own (a {@code matching} span, child of the trace
     * the job arrived with, one per job and input) when the job kept one that is not the input's,
     * else the input's.
     */
    private static Headers traceOf(PoolMarket m, SpecificRecord value, Headers input, Map<String, Headers> jobTraces) {
        Schema.Field field = value.getSchema().getField("jobId");
        Object jobId = field == null ? null : value.get(field.pos());
        Job job = jobId == null ? null : m.job(jobId.toString());
        if (job == null || job.traceparent == null) {
            return input;
        }
        Context kept = Traces.parent(job.traceparent);
        String inputTrace = Traces.traceId(input);
        if (Span.fromContext(kept).getSpanContext().getTraceId().equals(inputTrace)) {
            return input;
        }
        return jobTraces.computeIfAbsent(job.jobId, id -> {
            Span span = Traces.start("matching", SpanKind.INTERNAL, kept);
            Headers own = new RecordHeaders();
            Traces.inject(Context.root().with(span), own);
            span.end();
            return own;
        });
    }

    private static final Headers NO_TRACE = new RecordHeaders();

    private PoolMarket market(String pool) {
        return markets.computeIfAbsent(pool, p -> PoolMarket.behindGate(p, cfg));
    }

    /**
     * The task with its spec sealed to the worker's registered key ({@link TaskSeal}): only that
     * worker reads its command and env, though every worker may read the topic. The gate takes no
     * registration without a key; a worker kept from before sealing (until it registers again at
     * its next start) gets its task unsealed, as it did then.
     */
    private static TaskAssigned sealed(PoolMarket m, TaskAssigned t) {
        String key = m.sealKey(t.getWorkerId());
        if (key == null) {
            log.warn("task {} sent unsealed: worker {} registered no sealKey", t.getTaskId(), t.getWorkerId());
            return t;
        }
        return TaskSeal.seal(t, key);
    }

    /**
     * Writes what changed and forwards the records, stamped {@code now}; a task is sealed to its
     * worker, signed with the matcher's key and names its partition in a header.
     */
    private void apply(PoolMarket m, PoolMarket.Effects fx, long now, Headers trace) {
        fx.savedWorkers().forEach(w -> workerStore.put(m.pool() + "|" + w.workerId, w));
        fx.removedWorkers().forEach(id -> workerStore.delete(m.pool() + "|" + id));
        fx.savedJobs().forEach(job -> jobStore.put(job.jobId, job));
        fx.forgottenJobs().forEach(jobStore::delete);
        Map<String, Headers> jobTraces = new HashMap<>();
        for (PoolMarket.Effects.Emitted e : fx.records()) {
            SpecificRecord value = e.value() instanceof TaskAssigned t ? Assignments.sign(sealed(m, t), matcher) : e.value();
            Flow.Emit emit = new Flow.Emit(e.topic(), value, null, e.partition());
            RecordHeaders headers = new RecordHeaders(traceOf(m, value, trace, jobTraces).toArray());
            if (e.partition() != null) {
                headers.add(H_PARTITION, Integer.toString(e.partition()).getBytes(StandardCharsets.UTF_8));
            }
            ctx.forward(new Record<String, Flow>(e.key(), emit, now, headers));
            if (value instanceof TaskAssigned t) {
                // the verifier's copy, keyed by job: the same signed record, no partition of its own
                ctx.forward(new Record<String, Flow>(t.getJobId(), Flow.Emit.of(Topics.ASSIGNMENTS.name(), t), now));
            }
        }
        if (fx.awaited() && freshInput) {
            Commits.ask(ctx); // after this loop, not at the next commit interval
        }
        meters.effects(m.pool(), fx, m.queued());
        asks.waits(m.pool(), m.queued() > 0);
    }

    @Override
    public void close() {
        markets.keySet().forEach(asks::forget);
    }
}
