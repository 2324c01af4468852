package io.agora.matcher;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import java.nio.charset.StandardCharsets;
import io.agora.events.CommandType;
import io.agora.events.JobCommand;
import io.agora.events.LedgerEntry;
import io.agora.events.ResultStatus;
import io.agora.events.TaskResult;
import io.agora.runtime.Emission;
import io.agora.runtime.StateStores;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Identity;
import io.agora.schemas.KafkaAccess;
import io.agora.schemas.TopicSpec;
import io.agora.schemas.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;


/**
 * The matcher's one topology factory, a pure function of its configuration, serdes and the
 * matcher's key (which signs every TaskAssigned, {@link io.agora.schemas.Assignments}).
 * <pre>
 *  agora.jobs.requests ─┐                                         ┌─► agora.ledger.entries (GRANT, HOLD, DISPUTE_FEE)
 *  agora.ledger.entries ┤                                         ├─► agora.jobs.events (ACCEPTED, REJECTED, DISPUTED)
 *  DISPUTE (by client) ─┴─► admission (by client) ─► DLQ (bounds) ┼─► agora.jobs.commands (DISPUTE, fee held)
 *                                │ admitted job, keyed by pool    │
 *  agora.workers.registrations ┐ │                                │
 *  agora.workers.heartbeats ───┼► worker gate (by worker) ──► DLQ │ (bounds, bad signature, replay, allowlist)
 *  agora.workers.host-beats ───┤ │                                │
 *  agora.workers.reputation ───┤ │ verified, keyed by pool        │ (+ STAKE, UNSTAKE, SLASH to the ledger)
 *  worker credits (ledger by worker, internal) ┘                  │
 *  agora.jobs.results ──┐        │                                │
 *  agora.jobs.commands ─┴► job input gate (by job) ─► DLQ         │ (bounds)
 *                                │ keyed by pool                  │
 *                                ▼                                │
 *        repartition agora-matcher-pool-events-repartition        │
 *                                ▼                                │
 *                 pool market (registry, matching, leases) ───────┴─► tasks (explicit partition), events,
 *                                                                     verdicts, ledger (REFUND), reputation,
 *                                                                     commands (REPLICA_FAILED)
 * </pre>
 * Four sub-topologies: admission, the worker gate and the job input gate each read their own inputs (a
 * commit writes an offset for every partition a committed task ever consumed, so only the inputs of the
 * stages that moved) and each writes the one pool-events topic the pool market reads.
 * Every record for a market topic travels as a {@link Flow.Emit} and is written by an
 * {@link Emission} sink that takes the topic, the value serde and, for tasks, the partition from the emit.
 */
public final class MatcherTopology {
    /** Name of the repartition step; Streams names the topic {@code <application.id>-pool-events-repartition}. */
    public static final String POOL_EVENTS = "pool-events";
    /** Name of the re-keying of clients' disputes by client ({@code <application.id>-dispute-requests-repartition}). */
    public static final String DISPUTE_REQUESTS = "dispute-requests";
    /** Name of the re-keying of worker credits by worker ({@code <application.id>-worker-credits-repartition}). */
    public static final String WORKER_CREDITS = "worker-credits";
    /**
     * The pool-events repartition topic, which admission's {@code repartition} creates and the worker gate and
     * the job input gate write as well: each front stage its own sub-topology, the pool stage one input.
     */
    /** Which front handed a pool event on and how far behind its input, in ms ({@link Stamp}). */
    static final String FRONT_LAG_HEADER = "agora-front-lag-ms";
    static final String POOL_EVENTS_TOPIC = MatcherApp.APP_ID + "-" + POOL_EVENTS + "-repartition";

    private MatcherTopology() {
    }

    public static Topology build(MatcherConfig cfg, AgoraSerdes serdes, Identity matcher) {
        return build(cfg, serdes, matcher, MatcherMeters.none());
    }

    /** With a challenge key of its own, which no issued challenge answers: every proof of hardware scores 0 (tests). */
    public static Topology build(MatcherConfig cfg, AgoraSerdes serdes, Identity matcher, MatcherMeters meters) {
        byte[] unknown = new byte[32];
        new java.security.SecureRandom().nextBytes(unknown);
        return build(cfg, serdes, matcher, meters, unknown);
    }

    /**
     * The topology, signing tasks with {@code matcher}, checking proofs of hardware against challenges
     * issued with {@code challengeKey} ({@link io.agora.schemas.ChallengeKey}), its processors counting in
     * {@code meters}.
     */
    public static Topology build(MatcherConfig cfg, AgoraSerdes serdes, Identity matcher, MatcherMeters meters,
                                 byte[] challengeKey) {
        return build(cfg, serdes, matcher, meters, challengeKey, new ResultAsks());
    }

    /** With {@code asks}, through which the pool stage tells the job input gate which pools have a job waiting. */
    static Topology build(MatcherConfig cfg, AgoraSerdes serdes, Identity matcher, MatcherMeters meters,
                          byte[] challengeKey, ResultAsks asks) {
        StreamsBuilder b = new StreamsBuilder();
        Serde<String> keys = serdes.keySerde();
        b.addStateStore(StateStores.keyValue(AdmissionProcessor.ACCOUNTS,
                keys, StateSerdes.account()));
        b.addStateStore(StateStores.keyValue(AdmissionProcessor.SEEN_JOBS,
                keys, Serdes.Long()));
        b.addStateStore(StateStores.keyValue(WorkerGateProcessor.GATE,
                keys, StateSerdes.gate()));
        b.addStateStore(StateStores.keyValue(WorkerGateProcessor.UNBONDS,
                keys, Serdes.String()));
        b.addStateStore(StateStores.keyValue(PoolMarketProcessor.WORKERS,
                keys, StateSerdes.worker()));
        b.addStateStore(StateStores.keyValue(PoolMarketProcessor.JOBS,
                keys, StateSerdes.job()));

        // how far behind its input each task of the worker gate reads: the gate judges silence by it
        ReadClock.PerTask reads = new ReadClock.PerTask();
        KStream<String, SpecificRecord> ledger = source(b, serdes, Topics.LEDGER);
        KStream<String, SpecificRecord> commands = source(b, serdes, Topics.JOB_COMMANDS);
        KStream<String, Flow> admission = source(b, serdes, Topics.JOB_REQUESTS)
                .merge(ledger, Named.as("admission-inputs"))
                .merge(disputeRequests(commands), Named.as("admission-inputs-2"))
                .process(() -> new AdmissionProcessor(cfg, serdes, meters), Named.as("admission"),
                        AdmissionProcessor.ACCOUNTS, AdmissionProcessor.SEEN_JOBS);

        KStream<String, Flow> gate = read(source(b, serdes, Topics.REGISTRATIONS), Topics.REGISTRATIONS, reads, cfg)
                .merge(read(source(b, serdes, Topics.HEARTBEATS), Topics.HEARTBEATS, reads, cfg), Named.as("gate-inputs-1"))
                .merge(read(source(b, serdes, Topics.REPUTATION), Topics.REPUTATION, reads, cfg), Named.as("gate-inputs-2"))
                .merge(workerCredits(ledger, reads), Named.as("gate-inputs-3"))
                .merge(read(source(b, serdes, Topics.HOST_BEATS), Topics.HOST_BEATS, reads, cfg), Named.as("gate-inputs-4"))
                .process(() -> new WorkerGateProcessor(cfg, serdes, challengeKey, reads), Named.as("worker-gate"), WorkerGateProcessor.GATE,
                        WorkerGateProcessor.UNBONDS);

        KStream<String, Flow> jobInputs = source(b, serdes, Topics.RESULTS)
                .merge(commands, Named.as("job-inputs"))
                .process(() -> new JobInputGateProcessor(serdes, asks), Named.as("job-input-gate"));

        // the three front stages stay three sub-topologies (no merge joins them): a commit writes the
        // offsets of the input partitions of the tasks that moved, not of all nine front inputs
        KStream<String, Flow.PoolEvent> market = toPool(admission, serdes, "admission", 0)
                .repartition(Repartitioned.with(keys, FlowSerdes.poolEventSerde()).withName(POOL_EVENTS)
                        .withNumberOfPartitions(Topics.PARTITIONS));
        Produced<String, Flow.PoolEvent> poolEvents = Produced.with(keys, FlowSerdes.poolEventSerde());
        toPool(gate, serdes, "worker-gate", cfg.workerGraceMs()).to(POOL_EVENTS_TOPIC, poolEvents.withName("worker-gate-pool-events-sink"));
        toPool(jobInputs, serdes, "job-input-gate", cfg.workerGraceMs()).to(POOL_EVENTS_TOPIC, poolEvents.withName("job-input-gate-pool-events-sink"));
        KStream<String, Flow> placed = market
                .process(() -> new PoolMarketProcessor(cfg, matcher, meters, asks), Named.as("pool-market"),
                        PoolMarketProcessor.WORKERS, PoolMarketProcessor.JOBS);
        Emission.to(placed, serdes, "market-sink");
        return b.build();
    }

    /**
     * A front stage's output: its emits to their market topics through a sink of its own, its pool events
     * stamped ({@link Stamp}) for the pool stage.
     */
    private static KStream<String, Flow.PoolEvent> toPool(KStream<String, Flow> stage, AgoraSerdes serdes, String name,
                                                          long maxLagMs) {
        Emission.to(stage.filter((k, v) -> v instanceof Flow.Emit, Named.as(name + "-emits")), serdes, name + "-sink");
        return stage
                .filter((k, v) -> v instanceof Flow.PoolEvent, Named.as(name + "-pool-events"))
                .mapValues(v -> (Flow.PoolEvent) v, Named.as(name + "-as-pool-event"))
                .processValues(() -> new Stamp(name, maxLagMs), Named.as(name + "-pool-events-stamped"));
    }

    /**
     * Clients' DISPUTE commands (keyed by job on their topic), re-keyed by client through
     * {@code agora-matcher-dispute-requests-repartition}: admission holds each one's fee against the client's
     * balance and hands it on to the verifier ({@link AdmissionProcessor#isDisputeRequest}).
     */
    private static KStream<String, SpecificRecord> disputeRequests(KStream<String, SpecificRecord> commands) {
        return commands
                .filter((k, v) -> v instanceof JobCommand c && AdmissionProcessor.isDisputeRequest(c)
                        && c.getClientId() != null, Named.as("dispute-requests-only"))
                .selectKey((k, v) -> ((JobCommand) v).getClientId(), Named.as("dispute-requests-by-client"))
                .mapValues(v -> (JobCommand) v, Named.as("dispute-requests-as-commands"))
                .repartition(Repartitioned.with(Serdes.String(), AgoraSerdes.plain().avroSerde(JobCommand.class))
                        .withName(DISPUTE_REQUESTS).withNumberOfPartitions(Topics.PARTITIONS))
                .mapValues(v -> (SpecificRecord) v, Named.as("dispute-requests-values"));
    }

    /**
     * Ledger entries that credit worker accounts (keyed by client on their topic), re-keyed by each
     * credited worker through {@code agora-matcher-worker-credits-repartition}: the gate's view of what a
     * worker may bond.
     */
    private static KStream<String, SpecificRecord> workerCredits(KStream<String, SpecificRecord> ledger,
                                                                 ReadClock.PerTask reads) {
        return ledger
                .flatMap((k, v) -> WorkerGateProcessor.creditedWorkers((LedgerEntry) v).stream()
                        .map(w -> KeyValue.pair(w, (LedgerEntry) v)).toList(), Named.as("ledger-credits-by-worker"))
                .repartition(Repartitioned.with(Serdes.String(), AgoraSerdes.plain().avroSerde(LedgerEntry.class))
                        .withName(WORKER_CREDITS).withNumberOfPartitions(Topics.PARTITIONS))
                .mapValues(v -> (SpecificRecord) v, Named.as("worker-credits-values"))
                .processValues(() -> new Read(reads, Long.MAX_VALUE), Named.as("worker-credits-read"));
    }

    /** A market topic read by a front stage. */
    private static <V extends SpecificRecord> KStream<String, SpecificRecord> source(StreamsBuilder b, AgoraSerdes serdes,
                                                                                    TopicSpec<String, V> spec) {
        return b.stream(spec.name(), Consumed.with(serdes.keySerde(), serdes.valueSerde(spec))
                        .withName(spec.name() + "-source"))
                .mapValues(v -> (SpecificRecord) v, Named.as(spec.name() + "-values"));
    }

    /** A market topic the worker gate reads, each record's age read into its task's {@link ReadClock}. */
    private static KStream<String, SpecificRecord> read(KStream<String, SpecificRecord> topic, TopicSpec<String, ?> spec,
                                                        ReadClock.PerTask reads, MatcherConfig cfg) {
        // a worker chooses the time of what it writes, unless the broker stamps it
        long maxAgeMs = KafkaAccess.WORKER.writes().contains(spec) && !spec.brokerTime() ? cfg.workerGraceMs() : Long.MAX_VALUE;
        return topic.processValues(() -> new Read(reads, maxAgeMs), Named.as(spec.name() + "-read"));
    }

    /** Reads each record's age into the {@link ReadClock} of its task; the record goes on as it is. */
    private static final class Read implements FixedKeyProcessor<String, SpecificRecord, SpecificRecord> {
        private final ReadClock.PerTask reads;
        private final long maxAgeMs;
        private FixedKeyProcessorContext<String, SpecificRecord> ctx;
        private ReadClock clock;

        Read(ReadClock.PerTask reads, long maxAgeMs) {
            this.reads = reads;
            this.maxAgeMs = maxAgeMs;
        }

        @Override
        public void init(FixedKeyProcessorContext<String, SpecificRecord> context) {
            ctx = context;
            clock = reads.of(context.taskId());
        }

        @Override
        public void process(FixedKeyRecord<String, SpecificRecord> record) {
            clock.read(ctx.currentSystemTimeMs(), record.timestamp(), maxAgeMs);
            ctx.forward(record);
        }
    }

    /**
     * Stamps each pool event with the matcher's clock as it enters the repartition topic, so the pool stage
     * knows how far behind its input it reads ({@link PoolMarketProcessor}): the events' own times are the
     * clocks of clients and workers. Nothing downstream reads an event's original time. The gates that hand on
     * what ends and renews leases (results, heartbeats) also say how far behind their own input they handed the
     * event on, in the {@link #FRONT_LAG_HEADER} header ({@code <front> <ms>}: now less the event's time, at most
     * one worker grace, as a worker chooses the time of what it writes), so that the pool stage judges leases by
     * what both it and each gate have read ({@link FrontClocks}): a result waiting behind a busy gate does not let
     * its lease expire. Admission says nothing: a burst of job requests read late holds no lease back.
     */
    static final class Stamp implements FixedKeyProcessor<String, Flow.PoolEvent, Flow.PoolEvent> {
        private final String front;
        private final long maxLagMs;
        private FixedKeyProcessorContext<String, Flow.PoolEvent> ctx;

        Stamp(String front, long maxLagMs) {
            this.front = front;
            this.maxLagMs = maxLagMs;
        }

        @Override
        public void init(FixedKeyProcessorContext<String, Flow.PoolEvent> context) {
            ctx = context;
        }

        @Override
        public void process(FixedKeyRecord<String, Flow.PoolEvent> record) {
            long now = ctx.currentSystemTimeMs();
            Headers headers = new RecordHeaders(record.headers().toArray());
            headers.remove(FRONT_LAG_HEADER);
            if (maxLagMs > 0) {
                long lag = Math.min(maxLagMs, Math.max(0, now - record.timestamp()));
                headers.add(FRONT_LAG_HEADER, (front + " " + lag).getBytes(StandardCharsets.US_ASCII));
            }
            ctx.forward(record.withHeaders(headers).withTimestamp(now));
        }
    }

    /**
     * The pool stage's read clocks, one per front that says its lag ({@link Stamp}) and one for the events of
     * the others: the stage has heard from the market up to the earliest of them ({@link #heard}).
     */
    static final class FrontClocks {
        private static final int MAX_FRONTS = 8;
        private final long maxLagMs;
        private final Map<String, ReadClock> clocks = new HashMap<>();

        FrontClocks(long maxLagMs) {
            this.maxLagMs = maxLagMs;
        }

        /** An event stamped {@code stampedAt}, with these headers, read at {@code now}. */
        void read(long now, long stampedAt, Headers headers) {
            String front = "";
            long lag = 0;
            Header h = headers.lastHeader(FRONT_LAG_HEADER);
            String v = h == null || h.value() == null || h.value().length > 64 ? null
                    : new String(h.value(), StandardCharsets.US_ASCII);
            int sp = v == null ? -1 : v.lastIndexOf(' ');
            if (sp > 0) {
                try {
                    lag = Math.min(maxLagMs, Math.max(0, Long.parseLong(v.substring(sp + 1))));
                    front = v.substring(0, sp);
                } catch (NumberFormatException e) {
                    lag = 0;
                }
            }
            ReadClock c = clocks.get(front);
            if (c == null) {
                if (clocks.size() >= MAX_FRONTS) {
                    front = "";
                    lag = 0;
                }
                c = clocks.computeIfAbsent(front, f -> new ReadClock());
            }
            c.read(now, stampedAt - lag);
        }

        /** The time up to which the stage and every front have read, at {@code now}. */
        long heard(long now) {
            long heard = now;
            for (ReadClock c : clocks.values()) {
                heard = Math.min(heard, c.heard(now));
            }
            return heard;
        }
    }
}
