package io.agora.worker;

import io.agora.market.ProofOfHardware;
import io.agora.schemas.AgoraConfig;
import io.agora.runtime.Launcher;
import io.agora.runtime.Service;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Identity;
import io.agora.schemas.KafkaAccess;
import io.agora.schemas.MatcherKey;
import io.agora.schemas.TaskSeal;
import io.agora.runtime.Meters;
import io.agora.events.WorkerStatus;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * The worker's entry point: {@code run} (default) joins the market; {@code keygen}/{@code id}
 * create or show the identity; {@code drain} asks the running worker to drain through its admin
 * port; {@code benchmark} runs the proof of hardware.
 */
@Command(name = "worker", mixinStandardHelpOptions = true, description = "Agora worker agent",
        subcommands = {WorkerApp.Run.class, WorkerApp.Keygen.class, WorkerApp.Id.class, WorkerApp.Drain.class,
                WorkerApp.Benchmark.class})
public final class WorkerApp implements Callable<Integer> {
    /** {@code main}'s defaults: exit once drained; the admin port on loopback only (POST /drain also needs the token). */
    static final Map<String, String> DEFAULTS = Map.of("agora.worker.exit.on.drain", "true",
            "agora.worker.admin.bind", "127.0.0.1");

    @Option(names = "--state-dir", description = "folder of worker.key (agora.worker.state.dir)")
    String stateDir;

    /** Builds the worker with real Kafka clients and the sandbox of {@code agora.worker.mode}. */
    public static Service create(AgoraConfig cfg) {
        WorkerConfig wc = WorkerConfig.from(cfg);
        MatcherKey.publicKey(cfg); // refuse to start without it: every task would be skipped
        Identity identity = Identity.loadOrCreate(wc.keyFile());
        String member = "worker-" + identity.workerId().substring(0, 16);
        CircuitBreaker engine = new CircuitBreaker("docker engine", wc.breakerFailures(), wc.breakerOpenMs());
        CircuitBreaker produce = new CircuitBreaker("kafka produce", wc.breakerFailures(), wc.breakerOpenMs());
        PrometheusMeterRegistry meters = Meters.registry();
        Sandbox sandbox = switch (wc.mode()) {
            case DOCKER -> new DockerSandbox(DockerSandbox.client(wc.dockerHost(), meters), wc, identity.workerId(), engine,
                    new ApiMarketFiles(java.net.URI.create(wc.apiUrl()), identity, wc.stateDir().resolve("artifact-cache"),
                            ApiMarketFiles.MAX_INPUT_BYTES, wc.inputCacheMb() << 20));
            case SIMULATED -> new SimulatedSandbox(wc.simulatedTaskMs());
            case WRONG -> new WrongOutputSandbox(new SimulatedSandbox(wc.simulatedTaskMs()));
        };
        AgoraSerdes serdes = AgoraSerdes.fromConfig(cfg);
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerProps(cfg, wc, member),
                new StringDeserializer(), new ByteArrayDeserializer());
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(cfg, member),
                new ByteArraySerializer(), new ByteArraySerializer());
        new KafkaClientMetrics(consumer).bindTo(meters);
        new KafkaClientMetrics(producer).bindTo(meters);
        WorkerAgent agent = new WorkerAgent(wc, new MessageSigner(identity, new SeqClock(wc.seqFile())),
                TaskSeal.Keys.loadOrCreate(wc.sealKeyFile()), consumer, producer, serdes, new MeteredSandbox(sandbox, meters, identity.workerId()), engine, produce);
        for (int i = 1; i < wc.identities(); i++) {
            agent.coHost(new MessageSigner(Identity.loadOrCreate(wc.keyFile(i)), new SeqClock(wc.seqFile(i))),
                    TaskSeal.Keys.loadOrCreate(wc.sealKeyFile(i)));
        }
        return new WorkerService(agent, wc, AdminToken.resolve(wc), meters);
    }

    /**
     * The task consumer's settings. Dynamic membership, not static: the broker cannot tie a
     * {@code group.instance.id} to the principal that uses it, so with static membership any worker
     * could join with another's instance id and the broker would fence that worker out of the group
     * (knocked off its partitions, its poll loop dead). The price: a restarting worker's partitions
     * move at once instead of waiting out the session timeout, and tasks already routed to them are
     * handed back as misrouted and placed again.
     */
    public static Map<String, Object> consumerProps(AgoraConfig cfg, WorkerConfig wc, String member) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cfg.bootstrapServers());
        p.putAll(cfg.kafkaClientProperties());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, KafkaAccess.WORKER_GROUP);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, member);
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // tasks are written in the matcher's transactions: an aborted one must never run
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.min(500, Math.max(1, wc.maxConcurrent() * wc.identities())));
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, wc.sessionTimeoutMs());
        // idle cost: the group coordinator hears from the worker a third of the session apart (not every 3 s)
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Math.max(1000, wc.sessionTimeoutMs() / 3));
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, cfg.fetchMaxWaitMs());
        return p;
    }

    static Map<String, Object> producerProps(AgoraConfig cfg, String member) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cfg.bootstrapServers());
        p.putAll(cfg.kafkaClientProperties());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, member + "-producer");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        // never block a task or the poll loop for long on a missing broker; the breaker reports it
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        return p;
    }

    /**
     * The agent as a {@link Service}: the Launcher's admin port ({@code agora.worker.admin.port})
     * serves its {@code /health} (200 only when READY or FULL), {@code /metrics} and
     * {@code POST /drain}, which needs the {@link AdminToken}, starts a drain and answers 202 at once.
     *
     * <p>Its meters: the task timings of {@link MeteredSandbox} and Docker calls of
     * {@link MeteredDockerHttpClient}, the Kafka clients' metrics, and the agent's counts read from its
     * health: {@code agora_worker_tasks_done_total}, {@code _failed_total}, {@code _handed_back_total},
     * {@code agora_worker_tasks_running}, {@code _in_flight}, {@code agora_worker_utilisation},
     * {@code agora_worker_earnings_micros}, {@code agora_worker_degraded}, {@code agora_worker_status{status}}
     * (1 for the current one).
     */
    static final class WorkerService implements Service {
        private final WorkerAgent agent;
        private final WorkerConfig cfg;
        private final String adminToken;
        private final PrometheusMeterRegistry meters;

        WorkerService(WorkerAgent agent, WorkerConfig cfg, String adminToken, PrometheusMeterRegistry meters) {
            this.agent = agent;
            this.cfg = cfg;
            this.adminToken = adminToken;
            this.meters = meters;
            count(meters, "agora.worker.tasks.done", "tasks that succeeded", "tasksDone");
            count(meters, "agora.worker.tasks.failed", "tasks that ended in another status", "tasksFailed");
            count(meters, "agora.worker.tasks.handed.back", "tasks handed back to the matcher", "tasksHandedBack");
            gauge(meters, "agora.worker.tasks.running", "tasks running in the sandbox", "activeTasks");
            gauge(meters, "agora.worker.tasks.in.flight", "tasks taken and not yet acknowledged", "inFlightTasks");
            gauge(meters, "agora.worker.utilisation", "share of the slots in use", "utilisation");
            gauge(meters, "agora.worker.earnings.micros", "estimated earnings of the tasks done", "earningsMicros");
            Gauge.builder("agora.worker.degraded", agent, a -> a.status() == WorkerStatus.DEGRADED ? 1 : 0)
                    .description("1 while the Docker engine or the producer circuit is open").register(meters);
            for (WorkerStatus s : WorkerStatus.values()) {
                Gauge.builder("agora.worker.status", agent, a -> a.status() == s ? 1 : 0)
                        .description("1 for the worker's current status").tag("status", s.name()).register(meters);
            }
        }

        private void count(MeterRegistry r, String name, String description, String healthKey) {
            FunctionCounter.builder(name, agent, a -> number(a.health().get(healthKey))).description(description).register(r);
        }

        private void gauge(MeterRegistry r, String name, String description, String healthKey) {
            Gauge.builder(name, agent, a -> number(a.health().get(healthKey))).description(description).register(r);
        }

        private static double number(Object v) {
            return v instanceof Number n ? n.doubleValue() : 0;
        }

        @Override
        public PrometheusMeterRegistry meters() {
            return meters;
        }

        @Override
        public java.util.Optional<String> adminToken() {
            return java.util.Optional.of(adminToken);
        }

        WorkerAgent agent() {
            return agent;
        }

        @Override
        public void start() {
            agent.start();
        }

        @Override
        public Map<String, Supplier<String>> adminActions() {
            return Map.of("drain", () -> {
                new Thread(() -> {
                    agent.drain();
                    if (cfg.exitOnDrain()) {
                        System.exit(0); // the shutdown hook closes what is left
                    }
                }, "worker-drain").start();
                return "{\"status\":\"DRAINING\",\"workerId\":\"" + agent.workerId() + "\"}";
            });
        }

        @Override
        public Map<String, Object> health() {
            return agent.health();
        }

        @Override
        public void close() {
            agent.close();
        }
    }

    // ---------------------------------------------------------------- command line

    public static void main(String[] args) {
        System.exit(new CommandLine(new WorkerApp()).execute(args));
    }

    @Override
    public Integer call() {
        return new Run(this).call();
    }

    void applyStateDir() {
        if (stateDir != null) {
            System.setProperty("agora.worker.state.dir", stateDir);
        }
    }

    static AgoraConfig config() {
        return AgoraConfig.load(DEFAULTS);
    }

    /** The worker's configuration, with {@code --state-dir} applied. */
    WorkerConfig workerConfig() {
        applyStateDir();
        return WorkerConfig.from(config());
    }

    @Command(name = "run", description = "join the market and run tasks (default)")
    static final class Run implements Callable<Integer> {
        @CommandLine.ParentCommand
        WorkerApp parent;

        Run() {
        }

        Run(WorkerApp parent) {
            this.parent = parent;
        }

        @Override
        public Integer call() {
            parent.applyStateDir();
            Launcher.run("worker", DEFAULTS, WorkerApp::create);
            return 0;
        }
    }

    @Command(name = "keygen", description = "create the worker key if missing and print the worker id")
    static final class Keygen implements Callable<Integer> {
        @CommandLine.ParentCommand
        WorkerApp parent;

        @Override
        public Integer call() {
            WorkerConfig wc = parent.workerConfig();
            boolean existed = java.nio.file.Files.exists(wc.keyFile());
            Identity id = Identity.loadOrCreate(wc.keyFile());
            System.out.println(id.workerId());
            System.err.println((existed ? "existing key " : "new key ") + wc.keyFile());
            return 0;
        }
    }

    @Command(name = "id", description = "print the worker id")
    static final class Id implements Callable<Integer> {
        @CommandLine.ParentCommand
        WorkerApp parent;

        @Override
        public Integer call() {
            WorkerConfig wc = parent.workerConfig();
            if (!java.nio.file.Files.exists(wc.keyFile())) {
                System.err.println("no worker key at " + wc.keyFile() + " (run: worker keygen)");
                return 1;
            }
            System.out.println(Identity.loadOrCreate(wc.keyFile()).workerId());
            return 0;
        }
    }

    @Command(name = "drain", description = "ask the running worker to drain and exit (POST /drain on its admin port)")
    static final class Drain implements Callable<Integer> {
        @CommandLine.ParentCommand
        WorkerApp parent;

        @Option(names = "--port", description = "admin port (default agora.worker.admin.port)")
        Integer port;
        @Option(names = "--host", defaultValue = "127.0.0.1")
        String host;

        @Override
        public Integer call() throws Exception {
            int p = port != null ? port : config().getInt("agora.worker.admin.port", 0);
            if (p <= 0) {
                System.err.println("no admin port: pass --port or set AGORA_WORKER_ADMIN_PORT");
                return 2;
            }
            String token;
            try {
                token = AdminToken.read(parent.workerConfig());
            } catch (java.io.IOException e) {
                System.err.println("no admin token: set AGORA_WORKER_ADMIN_TOKEN, or run on the worker's host with its"
                        + " --state-dir (" + AdminToken.FILE + " there)");
                return 2;
            }
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + p + "/drain"))
                    .header("Authorization", "Bearer " + token)
                    .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            System.out.println(r.body());
            return r.statusCode() == 202 ? 0 : 1;
        }
    }

    @Command(name = "benchmark", description = "run the proof-of-hardware benchmark and print the score")
    static final class Benchmark implements Callable<Integer> {
        @Option(names = "--ms", defaultValue = "1000", description = "duration in ms")
        long ms;
        @Option(names = "--seed", defaultValue = "agora", description = "chain seed (the worker uses its id)")
        String seed;

        @Override
        public Integer call() {
            ProofOfHardware.Proof p = ProofOfHardware.run(seed, ms);
            System.out.printf("score %.1f k-steps/s, %d steps in %d ms, proof %s%n", p.score(), p.steps(), p.elapsedMs(), p.proofHash());
            return 0;
        }
    }
}
