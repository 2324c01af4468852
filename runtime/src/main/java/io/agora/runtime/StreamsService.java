package io.agora.runtime;

import io.agora.schemas.AgoraConfigView;
import io.agora.schemas.Outage;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Runs one Kafka Streams topology with exactly-once (v2) processing, the dead-letter handlers
 * ({@link DeadLetterHandler}, {@link ProcessingDeadLetterHandler},
 * {@link ProductionDeadLetterHandler}) and honest health ({@link StreamsHealth}). Shared by
 * matcher-streams and verifier-streams.
 *
 * <p>Its {@link #meters() meters}: every Kafka Streams and client metric of the app
 * ({@link KafkaStreamsMetrics}: {@code kafka_stream_*}, {@code kafka_consumer_*},
 * {@code kafka_producer_*}, among them {@code kafka_consumer_fetch_manager_records_lag} per topic
 * and partition), {@code agora_streams_threads_replaced_total}, {@code agora_streams_pending_records}
 * (input waiting in the main consumers), and whatever the app's topology adds to the same registry.
 *
 * <p>A stream thread that dies (an outage, or a failure no handler took) is replaced; the
 * replacement restarts its tasks from their last commit. During an outage the dying thread first
 * waits, longer each time up to {@link #MAX_OUTAGE_BACKOFF}, so an absent registry is not
 * hammered.
 */
public final class StreamsService implements Service {
    /** Milliseconds without progress on waiting input after which {@code /health} says DOWN. */
    public static final String STALL_MS_CONFIG = "agora.streams.stall.ms";
    public static final long DEFAULT_STALL_MS = Duration.ofMinutes(5).toMillis();
    static final Duration MAX_OUTAGE_BACKOFF = Duration.ofMillis(Outage.MAX_PAUSE_MS);
    private static final Logger log = LoggerFactory.getLogger(StreamsService.class);

    private final KafkaStreams streams;
    private final String appId;
    private final Properties props;
    private final int threads;
    private final StreamsHealth health;
    private final long stallMs;
    private final RestoreWatch restores = new RestoreWatch(System::currentTimeMillis);
    private final PrometheusMeterRegistry meters;
    private final KafkaStreamsMetrics streamsMetrics;
    private final AtomicLong threadsReplaced = new AtomicLong();
    private final AtomicLong outagesInARow = new AtomicLong();
    private volatile long lastOutageAtMs;
    /** The last outage a stream thread failed on ({@link Outage#of}), shown on /health while it is recent. */
    private volatile String lastOutage;

    public StreamsService(String appId, Topology topology, Properties props) {
        this(appId, topology, props, Meters.registry());
    }

    /** A service whose meters go to {@code meters}, the registry its topology's processors count in too. */
    public StreamsService(String appId, Topology topology, Properties props, PrometheusMeterRegistry meters) {
        this.appId = appId;
        this.meters = meters;
        this.props = new Properties();
        this.props.putAll(props);
        this.threads = Integer.parseInt(String.valueOf(props.getOrDefault(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "1")));
        this.stallMs = Long.parseLong(String.valueOf(props.getOrDefault(STALL_MS_CONFIG, DEFAULT_STALL_MS)));
        this.health = new StreamsHealth(stallMs);
        Properties streamsProps = new Properties();
        streamsProps.putAll(props);
        streamsProps.remove(STALL_MS_CONFIG);
        this.streams = new KafkaStreams(topology, streamsProps, new StreamsClients());
        this.streams.setUncaughtExceptionHandler(this::replaceThread);
        this.streams.setGlobalStateRestoreListener(restores);
        this.streamsMetrics = new KafkaStreamsMetrics(streams);
        streamsMetrics.bindTo(meters);
        FunctionCounter.builder("agora.streams.threads.replaced", threadsReplaced, AtomicLong::get)
                .description("stream threads replaced after a failure").register(meters);
        Gauge.builder("agora.streams.pending.records", this, StreamsService::pendingInput)
                .description("records waiting in the input partitions").register(meters);
    }

    /**
     * How often a streams app commits ({@code AGORA_STREAMS_COMMIT_INTERVAL_MS}), in ms. A job's
     * path crosses four exactly-once commits, so a longer interval adds up to four times the
     * difference to its latency; a shorter one adds commits, each a flush and two round trips.
     */
    public static final String COMMIT_INTERVAL_MS = "agora.streams.commit.interval.ms";

    /**
     * How long a stream thread's poll waits for input ({@code AGORA_STREAMS_POLL_MS}, Streams' {@code poll.ms}),
     * in ms: 500, against Streams' 100. An idle thread ran its loop (poll, punctuation and commit checks over
     * every task) ten times a second, most of an idle matcher's and verifier's stream thread CPU. A record
     * still ends the wait at once; a commit a stage asks for ({@code Commits}) is made in the loop that
     * handled the record, one the commit gap holds back when it is due ({@link StreamsClients}), and a commit
     * interval's commit after a lone record too (the interval has passed):
     * only the tail of a burst with no commit asked for waits up to this long, and a wall-clock punctuation
     * runs up to this late.
     */
    public static final String POLL_MS = "agora.streams.poll.ms";

    /**
     * The most records a stream thread's poll returns ({@code AGORA_STREAMS_MAX_POLL_RECORDS}, Streams' main
     * consumer {@code max.poll.records}). A thread polls again only once it has processed what it holds, so this
     * bounds how long it goes without fetching: heartbeats and results wait on the broker meanwhile
     * ({@link Polls}).
     */
    public static final String MAX_POLL_RECORDS = "agora.streams.max.poll.records";

    /**
     * How long the group waits for a silent instance before its tasks go to the others
     * ({@code AGORA_STREAMS_SESSION_TIMEOUT_MS}, default 10 s instead of the client's 45 s): a
     * SIGKILLed instance's partitions stood still that long (agora chaos measured a 74 s placement
     * stall after a matcher kill). Heartbeats come from a background thread every 3 s.
     */
    public static final String SESSION_TIMEOUT_MS = "agora.streams.session.timeout.ms";

    /**
     * Warm copies of each task's state kept by another instance of the app
     * ({@code AGORA_STREAMS_STANDBY_REPLICAS}, default 1): when an instance is killed, exactly-once
     * wipes its local state, and the instance that takes its tasks over starts from a standby instead
     * of replaying whole changelogs (minutes of stalled matching in `agora chaos`). With one instance
     * there is nowhere to put a standby and it costs nothing.
     */
    public static final String STANDBY_REPLICAS = "agora.streams.standby.replicas";

    /**
     * Exactly-once streams properties for an app of the market, with the dead-letter handlers.
     * Tests hand the same properties to {@code TopologyTestDriver}, so they run with the handlers
     * the app runs with.
     */
    public static Properties properties(String appId, AgoraConfigView cfg, String stateDir, Map<String, String> extra) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, cfg.bootstrapServers());
        p.putAll(cfg.kafkaClientProperties());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, cfg.find(COMMIT_INTERVAL_MS).orElse("100"));
        p.put(StreamsConfig.POLL_MS_CONFIG, cfg.find(POLL_MS).orElse("500"));
        p.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, cfg.find(STANDBY_REPLICAS).orElse("1"));
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), cfg.find(SESSION_TIMEOUT_MS).orElse("10000"));
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), Integer.toString(cfg.fetchMaxWaitMs()));
        p.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), cfg.find(MAX_POLL_RECORDS).orElse("1000"));
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class.getName());
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, ProcessingDeadLetterHandler.class.getName());
        p.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, ProductionDeadLetterHandler.class.getName());
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, "true");
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, "-1");
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), "5");
        cfg.find(STALL_MS_CONFIG).ifPresent(v -> p.put(STALL_MS_CONFIG, v));
        p.putAll(extra);
        return p;
    }

    public KafkaStreams streams() {
        return streams;
    }

    /** The properties this service runs with (a copy). */
    public Properties properties() {
        Properties copy = new Properties();
        copy.putAll(props);
        return copy;
    }

    @Override
    public void start() {
        streams.start();
    }

    @Override
    public Map<String, Object> health() {
        KafkaStreams.State state = streams.state();
        Collection<ThreadMetadata> local = streams.metadataForLocalThreads();
        int alive = (int) local.stream().filter(StreamsService::alive).count();
        long processed = (long) sum("process-total", "stream-thread-metrics");
        StreamsHealth.Verdict v = health.judge(new StreamsHealth.Reading(state, alive, threads,
                processed, pendingInput(), System.currentTimeMillis()));
        String stuckRestore = v.up() ? restores.standingStill(stallMs) : null;
        if (stuckRestore != null) {
            v = StreamsHealth.Verdict.down(stuckRestore);
        }
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("status", v.up() ? "UP" : "DOWN");
        if (!v.up()) {
            h.put("reason", v.reason());
        }
        h.put("state", state.name());
        h.put("app", appId);
        h.put("threadsAlive", alive);
        h.put("threadsReplaced", threadsReplaced.get());
        String outage = lastOutage;
        if (outage != null && System.currentTimeMillis() - lastOutageAtMs <= 2 * MAX_OUTAGE_BACKOFF.toMillis()) {
            h.put("outage", outage); // what the threads are waiting out (the registry, the broker...)
        }
        // how the work is spread over the instances of the app (agora chaos prints it)
        h.put("processed", processed);
        h.put("activeTasks", tasks(local, ThreadMetadata::activeTasks));
        h.put("standbyTasks", tasks(local, ThreadMetadata::standbyTasks));
        return h;
    }

    @Override
    public PrometheusMeterRegistry meters() {
        return meters;
    }

    @Override
    public void close() {
        streams.close(Duration.ofSeconds(10));
        streamsMetrics.close();
    }

    private StreamThreadExceptionResponse replaceThread(Throwable e) {
        threadsReplaced.incrementAndGet();
        if (Outage.isOutage(e)) {
            Duration wait = outageBackoff(System.currentTimeMillis());
            lastOutage = Outage.of(e).orElseThrow();
            log.error("{} stream thread failed during an outage ({}), replacing it in {} ms", appId,
                    lastOutage, wait.toMillis(), e);
            try {
                Thread.sleep(wait.toMillis());
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        } else {
            log.error("{} stream thread failed, replacing it", appId, e);
        }
        return StreamThreadExceptionResponse.REPLACE_THREAD;
    }

    /** 0.5 s, doubling with each failure of the same outage up to {@link #MAX_OUTAGE_BACKOFF}; a new outage starts again. */
    Duration outageBackoff(long nowMs) {
        if (nowMs - lastOutageAtMs > 2 * MAX_OUTAGE_BACKOFF.toMillis()) {
            outagesInARow.set(0);
        }
        lastOutageAtMs = nowMs;
        long n = outagesInARow.incrementAndGet();
        return Duration.ofMillis(outagePauseMs((int) Math.min(n - 1, Integer.MAX_VALUE)));
    }

    /** The pause before the {@code attempt}-th retry (from 0) of the same outage: 0.5 s doubling to {@link #MAX_OUTAGE_BACKOFF}. */
    static long outagePauseMs(int attempt) {
        return Outage.pauseMs(attempt);
    }

    /** The ids of the tasks of these threads, sorted, comma-separated. */
    private static String tasks(Collection<ThreadMetadata> threads, Function<ThreadMetadata, Set<TaskMetadata>> which) {
        return threads.stream().flatMap(t -> which.apply(t).stream()).map(t -> t.taskId().toString()).sorted()
                .collect(Collectors.joining(","));
    }

    private static boolean alive(ThreadMetadata t) {
        String s = t.threadState();
        return !"DEAD".equals(s) && !"PENDING_SHUTDOWN".equals(s);
    }

    /** Records waiting in the input partitions of the main consumers (restore and global consumers excluded). */
    private long pendingInput() {
        long lag = 0;
        for (Map.Entry<MetricName, ? extends Metric> m : streams.metrics().entrySet()) {
            MetricName n = m.getKey();
            String client = n.tags().getOrDefault("client-id", "");
            if ("records-lag".equals(n.name()) && "consumer-fetch-manager-metrics".equals(n.group())
                    && client.endsWith("-consumer") && !client.endsWith("restore-consumer")
                    && !client.endsWith("global-consumer")) {
                lag += (long) number(m.getValue());
            }
        }
        return lag;
    }

    private double sum(String name, String group) {
        double total = 0;
        for (Map.Entry<MetricName, ? extends Metric> m : streams.metrics().entrySet()) {
            if (name.equals(m.getKey().name()) && group.equals(m.getKey().group())) {
                total += number(m.getValue());
            }
        }
        return total;
    }

    private static double number(Metric m) {
        Object v = m.metricValue();
        return v instanceof Number n && !Double.isNaN(n.doubleValue()) ? n.doubleValue() : 0;
    }
}
