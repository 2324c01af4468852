package io.agora.infra.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.agora.events.JobVerdict;
import io.agora.infra.LocalStack;
import io.agora.infra.market.Market;
import io.agora.infra.market.MarketClient;
import io.agora.infra.market.ServiceProcess;
import io.agora.infra.market.StackEndpoints;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Identity;
import io.agora.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * End-to-end market benchmark: the five services and W simulated workers as separate JVMs
 * ({@link Market}) on a real stack, N jobs submitted over HTTP by C concurrent submitters, each
 * job's submit→verdict latency measured by reading {@code agora.jobs.verdicts} directly
 * (read_committed) and matching job ids to submit timestamps.
 *
 * <p>Run through {@code infra/bin/agora bench [options]}; options:
 * <pre>
 *   --jobs N            measured jobs (500)
 *   --concurrency C     concurrent HTTP submitters (8)
 *   --batch B           jobs per request: 1 = POST /api/v1/jobs, more = POST /api/v1/jobs/batch of B jobs (1)
 *   --workers W         simulated workers (4)
 *   --worker-hosts H    JVMs hosting the W workers, each identity with its own key (0 = one JVM per worker)
 *   --heartbeat-ms B    AGORA_WORKER_HEARTBEAT_MS of each worker (2000; 10000 with --worker-hosts); above
 *                       2000 the matcher's worker grace and lease are 3 x B
 *   --max-concurrent M  AGORA_WORKER_MAX_CONCURRENT of each worker (8)
 *   --queued-tasks Q    AGORA_WORKER_QUEUED_TASKS of each worker (0): tasks it holds beyond the M running, each
 *                       started the moment a running one ends
 *   --redundancy n      replicas per job (3)
 *   --quorum k          agreeing results needed, strategy k-of-n (2)
 *   --warmup J          warm-up jobs, not measured (20)
 *   --rate R            submissions per second over all submitters, 0 = as fast as possible (0)
 *   --task-ms T         AGORA_WORKER_SIMULATED_TASK_MS: simulated run time of a task (0)
 *   --timeout S         seconds a job may take to reach its verdict after the last submission (120)
 *   --jvm-opts "..."    JVM options of every service (default: ServiceProcess.jvmOptions(), i.e. the
 *                       tests' small heaps and C1 only; e.g. "-Xmx384m -XX:+UseSerialGC" for the full JIT)
 *   --reuse             run on the dev stack (default AGORA_HOME, ports, or the AGORA_* overrides)
 *                       instead of an isolated one; it is started if needed and never stopped
 *   --keep-stack        leave the isolated bench stack running (the next run reuses it)
 *   --raw-seconds S     seconds of the broker's raw produce rate measured after the jobs (5; 0 = skip)
 *   --idle S            submit nothing: print each process's CPU over S seconds as % of one core
 *   --commit-ms I       AGORA_STREAMS_COMMIT_INTERVAL_MS of the streams apps (their default)
 *   --docker            real Docker workers (agora/busybox:1, a trivial command) instead of simulated ones;
 *                       defaults become 2 workers x 4 running + 8 queued, 200 jobs, redundancy 1; after the market's run,
 *                       the same number of containers through a raw `docker run --rm` loop with the job's
 *                       limits at the workers' total slots, and the ratio of the two ({@link RawDockerRate})
 * </pre>
 * Redundancy 1 runs in a trusted pool ({@code bench}, its allowlist the bench workers' ids), as the
 * market accepts a single replica only there.
 * The isolated stack lives in {@code infra/target/bench-stack} (Kafka 29092/29093, registry 28081,
 * PostgreSQL 25433), apart from the test stack, so a benchmark never stops a test's broker.
 * Exits 1 when any job did not reach a verdict within the timeout (or could not be submitted).
 */
public final class MarketBenchmark {
    static final int BENCH_KAFKA_PORT = 29092;
    static final int BENCH_CONTROLLER_PORT = 29093;
    static final int BENCH_REGISTRY_PORT = 28081;
    static final int BENCH_PG_PORT = 25433;
    static final long MAX_PRICE = 1000;
    static final long TIMEOUT_MS = 10_000;
    /** The trusted pool of a redundancy-1 run; its allowlist is the bench workers' ids. */
    static final String TRUSTED_POOL = "bench";

    record Options(int jobs, int concurrency, int workers, int maxConcurrent, int redundancy, int quorum, int warmup,
                   double rate, long taskMs, long timeoutS, boolean reuse, boolean keepStack, String jvmOpts,
                   int workerHosts, long heartbeatMs, double rawSeconds, int idleS, String commitMs, boolean docker,
                   int batch, int queuedTasks) {
        static Options parse(String[] args) {
            Map<String, String> v = new LinkedHashMap<>();
            Set<String> flags = Set.of("--reuse", "--keep-stack", "--docker");
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("-h") || a.equals("--help")) {
                    throw new IllegalArgumentException("help");
                }
                if (flags.contains(a)) {
                    v.put(a, "true");
                } else if (a.startsWith("--") && a.contains("=")) {
                    v.put(a.substring(0, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
                } else if (a.startsWith("--") && i + 1 < args.length) {
                    v.put(a, args[++i]);
                } else {
                    throw new IllegalArgumentException("unexpected argument " + a);
                }
            }
            Set<String> known = Set.of("--jobs", "--concurrency", "--workers", "--max-concurrent", "--redundancy",
                    "--quorum", "--warmup", "--rate", "--task-ms", "--timeout", "--reuse", "--keep-stack", "--jvm-opts",
                    "--worker-hosts", "--heartbeat-ms", "--raw-seconds", "--idle", "--commit-ms", "--docker", "--batch",
                    "--queued-tasks");
            for (String k : v.keySet()) {
                if (!known.contains(k)) {
                    throw new IllegalArgumentException("unknown option " + k);
                }
            }
            boolean docker = v.containsKey("--docker");
            int maxConcurrent = i(v, "--max-concurrent", docker ? 4 : 8);
            Options o = new Options(i(v, "--jobs", docker ? 200 : 500), i(v, "--concurrency", 8),
                    i(v, "--workers", docker ? 2 : 4), maxConcurrent,
                    i(v, "--redundancy", docker ? 1 : 3), i(v, "--quorum", docker ? 1 : 2), i(v, "--warmup", 20),
                    Double.parseDouble(v.getOrDefault("--rate", "0")), i(v, "--task-ms", 0), i(v, "--timeout", 120),
                    v.containsKey("--reuse"), v.containsKey("--keep-stack"), v.get("--jvm-opts"),
                    i(v, "--worker-hosts", 0), i(v, "--heartbeat-ms", v.containsKey("--worker-hosts") ? 10_000 : 2000),
                    Double.parseDouble(v.getOrDefault("--raw-seconds", "5")), i(v, "--idle", 0), v.get("--commit-ms"),
                    docker, i(v, "--batch", 1), i(v, "--queued-tasks", docker ? 2 * maxConcurrent : 0));
            if (o.workerHosts < 0 || o.workerHosts > o.workers || o.heartbeatMs < 100) {
                throw new IllegalArgumentException("need 0 <= --worker-hosts <= --workers and --heartbeat-ms >= 100");
            }
            if (o.jobs < 1 || o.concurrency < 1 || o.workers < 1 || o.maxConcurrent < 1 || o.warmup < 0 || o.batch < 1
                    || o.queuedTasks < 0) {
                throw new IllegalArgumentException("--jobs, --concurrency, --workers, --max-concurrent, --batch must be >= 1,"
                        + " --warmup and --queued-tasks >= 0");
            }
            if (o.redundancy < 1 || o.quorum < 1 || o.quorum > o.redundancy) {
                throw new IllegalArgumentException("need 1 <= quorum <= redundancy");
            }
            if (o.trusted() && o.workerHosts > 0) {
                throw new IllegalArgumentException("redundancy 1 (a trusted pool) needs one JVM per worker: no --worker-hosts");
            }
            if (o.redundancy > o.workers) {
                throw new IllegalArgumentException("redundancy " + o.redundancy + " needs at least as many workers");
            }
            return o;
        }

        /** A single replica: the market accepts it only in a trusted pool, {@link #TRUSTED_POOL}. */
        boolean trusted() {
            return redundancy == 1;
        }

        /** Containers (or simulated tasks) that may run at once: the workers' total slots. */
        int slots() {
            return workers * maxConcurrent;
        }

        private static int i(Map<String, String> v, String k, int def) {
            return v.containsKey(k) ? Integer.parseInt(v.get(k)) : def;
        }
    }

    /** Submission of one job: when the HTTP call started and how long it took; jobId null when refused. */
    record Submission(int index, String jobId, long startNanos, long httpNanos, int status, String error) {
    }

    /** A verdict as seen by the benchmark's consumer. */
    record Seen(long atNanos, String outcome, String reason) {
    }

    static final String HELP = """
              --jobs N            measured jobs (500)
              --concurrency C     concurrent HTTP submitters (8)
              --batch B           jobs per request (1; above 1: POST /api/v1/jobs/batch of B jobs)
              --workers W         simulated workers (4)
              --worker-hosts H    JVMs hosting the W workers, each with its own key (0 = one JVM per worker)
              --heartbeat-ms B    heartbeat interval of each worker (2000; 10000 with --worker-hosts)
              --max-concurrent M  AGORA_WORKER_MAX_CONCURRENT of each worker (8)
              --queued-tasks Q    AGORA_WORKER_QUEUED_TASKS of each worker: tasks it holds beyond those running (0)
              --redundancy n      replicas per job (3)
              --quorum k          agreeing results needed, strategy k-of-n (2)
              --warmup J          warm-up jobs, not measured (20)
              --rate R            submissions per second over all submitters, 0 = as fast as possible (0)
              --task-ms T         simulated run time of a task (0)
              --timeout S         seconds a job may take to reach its verdict after the last submission (120)
              --reuse             the dev stack's infrastructure instead of infra/target/bench-stack
              --keep-stack        leave the bench stack running (the next run reuses it)
              --raw-seconds S     seconds of the broker's raw produce rate after the jobs (5; 0 = skip)
              --idle S            submit nothing: each process's CPU over S seconds, % of one core
              --commit-ms I       commit interval of the streams apps (their default)
              --docker            real Docker workers (2 x 4 running + 8 queued, 200 jobs, redundancy 1 by default), then a raw
                                  `docker run --rm` loop of as many containers at the same concurrency, and the ratio
              --jvm-opts "..."    JVM options of every service (default: small heaps, C1 only)""";

    private final Options o;
    private final String runId = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    private final Map<String, Seen> verdicts = new ConcurrentHashMap<>();
    /** Size of the verdict records read (key + value bytes): the record size of the raw produce rate. */
    private final AtomicLong verdictRecords = new AtomicLong();
    private final AtomicLong verdictBytes = new AtomicLong();
    private final AtomicBoolean stopConsumer = new AtomicBoolean();
    private final CountDownLatch consumerReady = new CountDownLatch(1);
    private volatile Throwable consumerFailure;

    private MarketBenchmark(Options o) {
        this.o = o;
    }

    public static void main(String[] args) {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            if (!"help".equals(e.getMessage())) {
                System.err.println("error: " + e.getMessage());
            }
            System.err.println("usage: agora bench [--jobs N] [--concurrency C] [--workers W] [--max-concurrent M]"
                    + " [--worker-hosts H] [--heartbeat-ms B] [--redundancy n --quorum k] [--warmup J] [--rate R] [--task-ms T] [--timeout S]"
                    + " [--reuse] [--keep-stack] [--jvm-opts \"...\"]");
            if ("help".equals(e.getMessage())) {
                System.err.println(HELP);
            }
            System.exit("help".equals(e.getMessage()) ? 0 : 2);
            return;
        }
        int code;
        try {
            code = new MarketBenchmark(o).run();
        } catch (Exception e) {
            e.printStackTrace();
            code = 2;
        }
        System.exit(code);
    }

    private int run() throws Exception {
        Path repo = LocalStack.repoRoot();
        LocalStack stack = o.reuse ? devStack(repo) : benchStack(repo);
        Path workDir = repo.resolve("infra/target/bench/run-" + runId);
        Files.createDirectories(workDir);
        AtomicBoolean cleaned = new AtomicBoolean();
        Market[] market = new Market[1];
        Runnable cleanup = () -> {
            if (cleaned.compareAndSet(false, true)) {
                stopConsumer.set(true);
                if (market[0] != null) {
                    log("stopping the services");
                    market[0].close();
                }
                if (!o.reuse && !o.keepStack) {
                    log("stopping the bench stack (" + stack.home() + ")");
                    stack.stop();
                }
            }
        };
        Thread hook = new Thread(cleanup, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return measure(stack, workDir, market);
        } finally {
            cleanup.run();
        }
    }

    private int measure(LocalStack stack, Path workDir, Market[] marketRef) throws Exception {
        long t = System.nanoTime();
        log("stack: " + stack + " (agora stack-up)");
        stack.start();
        if (o.docker) {
            stack.ensureDocker(); // dockerd and the job image (agora docker-up)
        }
        log("stack ready in " + ms(System.nanoTime() - t) + " ms");

        Map<String, String> env = new LinkedHashMap<>();
        // one client drives the whole load: the per-client rate limit (20/s) would be the benchmark
        env.put("AGORA_INGEST_RATE_LIMIT_PER_SECOND", "1000000");
        env.put("AGORA_INGEST_RATE_LIMIT_BURST", "1000000");
        if (o.commitMs != null) {
            env.put("AGORA_STREAMS_COMMIT_INTERVAL_MS", o.commitMs);
        }
        // the matcher caps a worker's slots at agora.matcher.max.slots.per.worker (4): --max-concurrent above it
        // would only queue tasks nobody assigns
        env.put("AGORA_MATCHER_MAX_SLOTS_PER_WORKER", Integer.toString(Math.max(4, o.maxConcurrent + o.queuedTasks)));
        if (o.heartbeatMs > 2000) {
            // a worker is OFFLINE after the matcher's grace, and heartbeats renew leases: both follow the interval
            env.put("AGORA_MATCHER_WORKER_GRACE_MS", Long.toString(3 * o.heartbeatMs));
            env.put("AGORA_MATCHER_LEASE_MS", Long.toString(3 * o.heartbeatMs));
        }
        if (o.docker) {
            // a bench task takes a second and no bench worker dies, but on a shared machine (load 40-48) the matcher
            // lagged its input by more than the 10 s grace: both workers were called offline at once, their leases
            // failed, and three of those cooled the bench's only workers down for minutes (two runs: 8 and 5 of 200
            // jobs, then nothing)
            env.put("AGORA_MATCHER_LEASE_MS", Long.toString(Math.max(60_000, 3 * o.heartbeatMs)));
            env.put("AGORA_MATCHER_WORKER_GRACE_MS", Long.toString(Math.max(30_000, 3 * o.heartbeatMs)));
            // at load 47 the matcher still lagged past 30 s; the cool-down guards a pool against bad workers, and the
            // bench's two are its own: a lag must cost the run its failed leases, not the workers for five minutes
            env.put("AGORA_MATCHER_COOLDOWN_EXPIRED_LEASES", "0");
        }
        if (o.jvmOpts != null) {
            System.setProperty(ServiceProcess.JVM_OPTS_PROPERTY, o.jvmOpts);
        }
        if (o.trusted()) {
            // the workers' keys are made before they first start, so their ids can be allowlisted
            List<String> ids = new ArrayList<>();
            for (int i = 1; i <= o.workers; i++) {
                ids.add(Identity.loadOrCreate(workerState(workDir, i).resolve("worker.key")).workerId());
            }
            env.put("AGORA_POOL_" + TRUSTED_POOL.toUpperCase(Locale.ROOT) + "_ALLOWLIST", String.join(",", ids));
        }
        Market market = new Market(stack.endpoints(), stack.repo(), workDir, env);
        marketRef[0] = market;
        t = System.nanoTime();
        market.startCore();
        int processes = o.workerHosts > 0 ? o.workerHosts : o.workers;
        for (int i = 1; i <= processes; i++) {
            Map<String, String> w = new LinkedHashMap<>();
            w.put("AGORA_WORKER_MAX_CONCURRENT", Integer.toString(o.maxConcurrent));
            w.put("AGORA_WORKER_QUEUED_TASKS", Integer.toString(o.queuedTasks));
            w.put("AGORA_WORKER_SIMULATED_TASK_MS", Long.toString(o.taskMs));
            w.put("AGORA_WORKER_HEARTBEAT_MS", Long.toString(o.heartbeatMs));
            // the same keys every run: on a kept stack the pool would otherwise gain W departed workers per run
            w.put("AGORA_STATE_DIR", workerState(workDir, i).toString());
            if (o.trusted()) {
                w.put("AGORA_WORKER_POOL", TRUSTED_POOL);
            }
            if (o.workerHosts > 0) {
                // identities spread evenly over the hosts; each proves its hardware briefly (one JVM, many keys)
                w.put("AGORA_WORKER_IDENTITIES", Integer.toString(o.workers / processes + (i <= o.workers % processes ? 1 : 0)));
                w.put("AGORA_WORKER_BENCHMARK_MS", "20");
            }
            market.startWorker("worker-" + i, o.docker ? "docker" : "simulated", w);
        }
        log("services launched; logs in " + workDir.resolve("logs"));
        market.awaitApi(Duration.ofMinutes(8)); // at load 50-70 the services took over 3 minutes to start
        log("ingest-api healthy in " + ms(System.nanoTime() - t) + " ms at " + market.apiUrl());

        if (o.idleS > 0) {
            awaitWorkers(new MarketClient(market.apiUrl()), null, market);
            return idle(market, stack);
        }
        Thread consumer = new Thread(() -> consumeVerdicts(stack), "bench-verdicts");
        consumer.setDaemon(true);
        consumer.start();
        if (!consumerReady.await(60, TimeUnit.SECONDS) || consumerFailure != null) {
            throw new IllegalStateException("verdict consumer did not start", consumerFailure);
        }

        MarketClient client = new MarketClient(market.apiUrl());
        String clientId = "bench-" + runId;
        String key = client.issueKey(Market.ADMIN_TOKEN, clientId);
        long perJob = MAX_PRICE * ((TIMEOUT_MS + 999) / 1000) * 2L * o.redundancy; // Pricing.maxCost, cpus 1
        long deposit = Math.max(1_000_000_000L, 2L * perJob * (o.jobs + o.warmup));
        MarketClient.Answer d = client.deposit(Market.ADMIN_TOKEN, clientId, deposit);
        if (d.status() / 100 != 2) {
            throw new IllegalStateException("deposit refused: " + d);
        }
        awaitBalance(client, key, deposit, market);
        awaitWorkers(client, key, market);

        if (o.warmup > 0) {
            t = System.nanoTime();
            List<Submission> warm = submitAll(client, key, o.warmup, "warmup", Math.min(o.concurrency, o.warmup), 0);
            Result wr = awaitVerdicts(warm, Duration.ofSeconds(Math.max(120, o.timeoutS)));
            log("warm-up: " + o.warmup + " jobs, " + wr.outcomes + " in " + ms(System.nanoTime() - t) + " ms");
            if (wr.missing > 0) {
                System.out.println(market.diagnostics());
                throw new IllegalStateException(wr.missing + " warm-up jobs got no verdict; the market does not work");
            }
        }

        log("measuring: " + o.jobs + " jobs, " + o.concurrency + " submitters, n=" + o.redundancy + " k=" + o.quorum
                + (o.rate > 0 ? ", " + o.rate + " submissions/s" : ", as fast as possible"));
        Map<String, long[]> rssBefore = rss(market, stack);
        Map<String, Long> logEndsBefore = logEnds(stack);
        long start = System.nanoTime();
        List<Submission> subs = submitAll(client, key, o.jobs, "job", o.concurrency, o.rate);
        long submitEnd = System.nanoTime();
        Result r = awaitVerdicts(subs, Duration.ofSeconds(o.timeoutS));
        Map<String, long[]> rssAfter = rss(market, stack);
        Map<String, Long> logEndsAfter = logEnds(stack);
        int code = report(subs, r, start, submitEnd, rssBefore, rssAfter);
        reportPerJob(r, rssBefore, rssAfter, logEndsBefore, logEndsAfter, market);
        if (o.rawSeconds > 0 && r.lastVerdictNanos() > start) {
            long offsets = 0;
            for (var e : logEndsAfter.entrySet()) {
                offsets += Math.max(0, e.getValue() - logEndsBefore.getOrDefault(e.getKey(), 0L));
            }
            double marketRate = offsets / ((r.lastVerdictNanos() - start) / 1e9);
            int bytes = verdictRecords.get() == 0 ? 500 : (int) (verdictBytes.get() / verdictRecords.get());
            try {
                RawProduceRate.Rate raw = RawProduceRate.measure(stack, Topics.PARTITIONS, bytes, o.rawSeconds);
                System.out.println(RawProduceRate.describe(raw, marketRate));
            } catch (Exception e) { // a figure, never the run's verdict
                System.out.println("broker raw produce   not measured: " + e);
            }
        }
        if (o.docker && r.lastVerdictNanos() > start) {
            int done = r.outcomes().values().stream().mapToInt(Integer::intValue).sum();
            double window = (r.lastVerdictNanos() - start) / 1e9;
            int containers = done * o.redundancy;
            log("raw docker run: " + containers + " containers, " + o.slots() + " at a time");
            try {
                RawDockerRate.Rate raw = RawDockerRate.measure(containers, o.slots(), runId);
                // between the first and the last verdict: the market's rate without its pipeline's fill (a job's
                // submit->verdict latency, printed above), as the raw loop's between its first and last container
                double steady = done > 1 ? (done - 1) / ((r.lastVerdictNanos() - r.firstVerdictNanos()) / 1e9) : 0;
                System.out.println(RawDockerRate.describe(raw, done / window, steady, o.redundancy, o.slots()));
            } catch (Exception e) { // a figure, never the run's verdict
                System.out.println("raw docker run       not measured: " + e);
            }
            loadAverage(new PrintfOut());
        }
        if (code != 0) {
            System.out.println("---- service log tails ----");
            System.out.println(market.diagnostics());
        }
        return code;
    }

    /** A bench worker's state folder: the same keys every run (kept stacks would otherwise gain departed workers). */
    private static Path workerState(Path workDir, int i) {
        return workDir.resolveSibling("worker-state/worker-" + i);
    }

    // ------------------------------------------------------------ stack

    private static LocalStack benchStack(Path repo) {
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("AGORA_DIST", System.getenv().getOrDefault("AGORA_DIST", repo.resolve(".agora/dist").toString()));
        extra.put("AGORA_STACK_DOCKER", "0"); // simulated workers need no Docker
        extra.put("AGORA_PG_FAST", "1");
        return LocalStack.isolated(repo, repo.resolve("infra/target/bench-stack"), BENCH_KAFKA_PORT,
                BENCH_CONTROLLER_PORT, BENCH_REGISTRY_PORT, BENCH_PG_PORT, extra);
    }

    /** The dev stack: started if needed (stack-up is idempotent), never stopped by the benchmark. */
    private static LocalStack devStack(Path repo) {
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("AGORA_DIST", System.getenv().getOrDefault("AGORA_DIST", repo.resolve(".agora/dist").toString()));
        extra.put("AGORA_STACK_DOCKER", "0"); // leave Docker as it is
        Path home = Path.of(System.getenv().getOrDefault("AGORA_HOME", repo.resolve(".agora").toString()));
        return LocalStack.isolated(repo, home, envInt("AGORA_KAFKA_PORT", 9092),
                envInt("AGORA_KAFKA_CONTROLLER_PORT", 9093), envInt("AGORA_REGISTRY_PORT", 8081),
                envInt("AGORA_PG_PORT", 5433), extra);
    }

    // ------------------------------------------------------------ driving

    private List<Submission> submitAll(MarketClient client, String key, int count, String tag, int threads, double rate)
            throws InterruptedException {
        Submission[] out = new Submission[count];
        AtomicInteger next = new AtomicInteger();
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        for (int th = 0; th < threads; th++) {
            pool.execute(() -> {
                int i;
                while ((i = next.getAndAdd(o.batch)) < count) {
                    if (rate > 0) {
                        long due = t0 + (long) (i * 1e9 / rate);
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            sleepNanos(wait);
                        }
                    }
                    if (o.batch == 1) {
                        out[i] = submitOne(client, key, tag, i);
                    } else {
                        submitBatch(client, key, tag, i, Math.min(count, i + o.batch), out);
                    }
                }
            });
        }
        pool.shutdown();
        if (!pool.awaitTermination(30, TimeUnit.MINUTES)) {
            throw new IllegalStateException("submitters did not finish");
        }
        return Arrays.asList(out);
    }

    private Submission submitOne(MarketClient client, String key, String tag, int i) {
        String body = MarketClient.json(job(tag, i));
        for (int attempt = 0; ; attempt++) {
            long s = System.nanoTime();
            try {
                MarketClient.Answer a = client.submit(key, body);
                long http = System.nanoTime() - s;
                if (a.status() == 202 || a.status() == 201 || a.status() == 200) {
                    return new Submission(i, a.text("jobId"), s, http, a.status(), null);
                }
                if (a.status() == 429 && attempt < 20) {
                    sleepNanos(200_000_000L);
                    continue;
                }
                return new Submission(i, null, s, http, a.status(), String.valueOf(a.body()));
            } catch (RuntimeException e) {
                return new Submission(i, null, s, System.nanoTime() - s, -1, e.toString());
            }
        }
    }

    /** Jobs {@code from} to {@code to} (exclusive) in one {@code POST /api/v1/jobs/batch}; each with the call's times. */
    private void submitBatch(MarketClient client, String key, String tag, int from, int to, Submission[] out) {
        List<Map<String, Object>> jobs = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            jobs.add(job(tag, i));
        }
        String body = MarketClient.json(jobs);
        for (int attempt = 0; ; attempt++) {
            long s = System.nanoTime();
            MarketClient.Answer a;
            try {
                a = client.send("POST", "/api/v1/jobs/batch", key, body, Map.of());
            } catch (RuntimeException e) {
                for (int i = from; i < to; i++) {
                    out[i] = new Submission(i, null, s, System.nanoTime() - s, -1, e.toString());
                }
                return;
            }
            long http = System.nanoTime() - s;
            if (a.status() == 429 && attempt < 20) {
                sleepNanos(200_000_000L);
                continue;
            }
            for (int i = from; i < to; i++) {
                JsonNode id = a.status() == 202 ? a.body().path("jobs").path(i - from).get("jobId") : null;
                out[i] = id != null ? new Submission(i, id.asText(), s, http, a.status(), null)
                        : new Submission(i, null, s, http, a.status(), String.valueOf(a.body()));
            }
            return;
        }
    }

    /** Bench job {@code i}: a different argument per job, so every job has its own output hash. */
    private Map<String, Object> job(String tag, int i) {
        Map<String, Object> job = new LinkedHashMap<>(Map.of(
                "image", RawDockerRate.IMAGE,
                "command", List.of("sh", "-c", "echo " + tag + "-" + runId + "-" + i),
                "redundancy", o.redundancy,
                "quorum", o.quorum,
                "strategy", "k-of-n",
                "cpus", 1.0,
                "timeoutMs", TIMEOUT_MS,
                "maxPricePerCpuSecondMicros", MAX_PRICE));
        if (o.trusted()) {
            job.put("requirements", Map.of("pool", TRUSTED_POOL));
        }
        return job;
    }

    record Result(Map<String, Integer> outcomes, int missing, long firstVerdictNanos, long lastVerdictNanos) {
    }

    private Result awaitVerdicts(List<Submission> subs, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> ids = subs.stream().filter(s -> s.jobId() != null).map(Submission::jobId).toList();
        long lastProgress = System.nanoTime();
        int lastCount = -1;
        while (true) {
            int have = 0;
            for (String id : ids) {
                if (verdicts.containsKey(id)) {
                    have++;
                }
            }
            if (have == ids.size() || System.nanoTime() > deadline || consumerFailure != null) {
                break;
            }
            if (have != lastCount) {
                lastCount = have;
                lastProgress = System.nanoTime();
            } else if (System.nanoTime() - lastProgress > 10_000_000_000L) {
                log("waiting for verdicts: " + have + "/" + ids.size());
                lastProgress = System.nanoTime();
            }
            Thread.sleep(20);
        }
        if (consumerFailure != null) {
            throw new IllegalStateException("verdict consumer failed", consumerFailure);
        }
        Map<String, Integer> outcomes = new TreeMap<>();
        int missing = 0;
        long first = Long.MAX_VALUE;
        long last = 0;
        for (String id : ids) {
            Seen v = verdicts.get(id);
            if (v == null) {
                missing++;
            } else {
                outcomes.merge(v.outcome(), 1, Integer::sum);
                first = Math.min(first, v.atNanos());
                last = Math.max(last, v.atNanos());
            }
        }
        return new Result(outcomes, missing, first, last);
    }

    private void consumeVerdicts(LocalStack stack) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrap());
        p.putAll(stack.adminClientProperties());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "10");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "market-benchmark-" + runId);
        AgoraSerdes serdes = AgoraSerdes.registry(stack.registryUrl());
        try (KafkaConsumer<String, JobVerdict> c = new KafkaConsumer<>(p, new StringDeserializer(),
                serdes.valueSerde(Topics.VERDICTS).deserializer())) {
            List<TopicPartition> parts = c.partitionsFor(Topics.VERDICTS.name(), Duration.ofSeconds(30)).stream()
                    .map(pi -> new TopicPartition(pi.topic(), pi.partition())).toList();
            c.assign(parts);
            c.seekToEnd(parts);
            for (TopicPartition tp : parts) {
                c.position(tp, Duration.ofSeconds(30)); // resolve now: only verdicts of this run are read
            }
            consumerReady.countDown();
            while (!stopConsumer.get()) {
                for (ConsumerRecord<String, JobVerdict> rec : c.poll(Duration.ofMillis(50))) {
                    long now = System.nanoTime();
                    JobVerdict v = rec.value();
                    verdictRecords.incrementAndGet();
                    verdictBytes.addAndGet(rec.serializedKeySize() + rec.serializedValueSize());
                    if (v != null) {
                        verdicts.putIfAbsent(v.getJobId().toString(), new Seen(now, v.getOutcome().toString(),
                                v.getReason() == null ? null : v.getReason().toString()));
                    }
                }
            }
        } catch (Throwable e) {
            consumerFailure = e;
            consumerReady.countDown();
        }
    }

    private void awaitBalance(MarketClient client, String key, long deposit, Market market) {
        long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < end) {
            MarketClient.Answer a = client.account(key, "me");
            if (a.status() == 200 && a.body().path("availableMicros").asLong() >= deposit) {
                log("deposit of " + deposit + " micros visible");
                return;
            }
            sleepNanos(250_000_000L);
        }
        throw new IllegalStateException("deposit not visible after 90 s:\n" + market.diagnostics());
    }

    private void awaitWorkers(MarketClient client, String key, Market market) {
        long t = System.nanoTime();
        long end = t + Duration.ofSeconds(120).toNanos();
        int ready = 0;
        long nextLog = t + 10_000_000_000L;
        MarketClient.Answer a = null;
        while (System.nanoTime() < end) {
            a = client.get(key, "/api/v1/workers");
            ready = 0;
            Map<String, Integer> states = new TreeMap<>();
            if (a.status() == 200 && a.body().isArray()) {
                for (JsonNode w : a.body()) {
                    states.merge(w.path("status").asText(), 1, Integer::sum);
                    if ("READY".equalsIgnoreCase(w.path("status").asText())) {
                        ready++;
                    }
                }
            }
            if (ready >= o.workers) {
                log(ready + " workers READY in " + ms(System.nanoTime() - t) + " ms");
                return;
            }
            if (System.nanoTime() > nextLog) {
                log("waiting for " + o.workers + " READY workers: HTTP " + a.status() + " " + states);
                nextLog = System.nanoTime() + 10_000_000_000L;
            }
            sleepNanos(250_000_000L);
        }
        System.out.println(market.diagnostics());
        throw new IllegalStateException("only " + ready + " of " + o.workers + " workers READY after 120 s; last answer "
                + a);
    }

    // ------------------------------------------------------------ idle

    /**
     * The stack with nothing to do: after the workers are READY and 10 s to settle, the CPU each
     * process uses over {@code --idle} seconds, as % of one core. Always exit 0: a figure, not a check.
     */
    private int idle(Market market, LocalStack stack) {
        log("idle: settling 10 s, then measuring " + o.idleS + " s with no jobs");
        sleepNanos(10_000_000_000L);
        Map<String, long[]> before = rss(market, stack);
        Map<String, Long> endsBefore = logEnds(stack);
        long t0 = System.nanoTime();
        sleepNanos(o.idleS * 1_000_000_000L);
        Map<String, long[]> after = rss(market, stack);
        Map<String, Long> endsAfter = logEnds(stack);
        double seconds = (System.nanoTime() - t0) / 1e9;
        PrintfOut out = new PrintfOut();
        out.line("==== Agora idle stack (%s): CPU over %.0f s, %% of one core (with child processes) ====", runId, seconds);
        Map<String, Long> cpuBefore = new LinkedHashMap<>();
        Map<String, Long> cpuAfter = new LinkedHashMap<>();
        before.forEach((k, v) -> cpuBefore.put(k, v[3]));
        after.forEach((k, v) -> cpuAfter.put(k, v[3]));
        StackCpu.table(cpuBefore, cpuAfter, seconds).forEach(l -> out.line("%s", l));
        out.line("  (%d workers in %d JVMs)", o.workers, o.workerHosts > 0 ? o.workerHosts : o.workers);
        out.line("log offsets written per second while idle (records + transaction markers):");
        for (var e : endsAfter.entrySet()) {
            long d = e.getValue() - endsBefore.getOrDefault(e.getKey(), 0L);
            if (d > 0) {
                out.line("  %8.2f  %s", d / seconds, e.getKey());
            }
        }
        loadAverage(out);
        return 0;
    }

    // ------------------------------------------------------------ reporting

    private int report(List<Submission> subs, Result r, long start, long submitEnd, Map<String, long[]> rssBefore,
                       Map<String, long[]> rssAfter) {
        List<Submission> ok = subs.stream().filter(s -> s.jobId() != null).toList();
        List<Submission> refused = subs.stream().filter(s -> s.jobId() == null).toList();
        long[] e2e = ok.stream().filter(s -> verdicts.containsKey(s.jobId()))
                .mapToLong(s -> verdicts.get(s.jobId()).atNanos() - s.startNanos()).sorted().toArray();
        long[] http = subs.stream().mapToLong(Submission::httpNanos).sorted().toArray();
        // counted when the wait ended, as the outcomes are (verdicts read after it would count as failed)
        int verdictCount = r.outcomes().values().stream().mapToInt(Integer::intValue).sum();
        long window = (r.lastVerdictNanos() > 0 ? r.lastVerdictNanos() : System.nanoTime()) - start;
        Map<String, Integer> reasons = new TreeMap<>();
        for (Submission s : ok) {
            Seen v = verdicts.get(s.jobId());
            if (v != null && !"COMPLETED".equals(v.outcome())) {
                reasons.merge(v.outcome() + ": " + v.reason(), 1, Integer::sum);
            }
        }
        PrintfOut out = new PrintfOut();
        out.line("==== Agora market benchmark (%s) ====", runId);
        out.line("workers=%d in %d JVMs (%s, max.concurrent=%d, queued.tasks=%d, task-ms=%d, heartbeat %d ms)"
                        + "  redundancy=%d quorum=%d  submitters=%d  batch=%d  rate=%s", o.workers, o.workerHosts > 0 ? o.workerHosts : o.workers,
                o.docker ? "Docker, " + RawDockerRate.IMAGE : "simulated", o.maxConcurrent, o.queuedTasks, o.taskMs,
                o.heartbeatMs, o.redundancy, o.quorum, o.concurrency, o.batch,
                o.rate > 0 ? o.rate + "/s" : "unlimited");
        out.line("service JVMs: %s", String.join(" ", ServiceProcess.jvmOptions()));
        out.line("jobs submitted      %d (refused by the API: %d)", ok.size(), refused.size());
        out.line("verdicts            %d  outcomes %s", verdictCount, r.outcomes());
        out.line("completed           %d", r.outcomes().getOrDefault("COMPLETED", 0));
        out.line("failed/other        %d%s", verdictCount - r.outcomes().getOrDefault("COMPLETED", 0),
                reasons.isEmpty() ? "" : "  " + reasons);
        out.line("no verdict in %ds   %d", o.timeoutS, r.missing());
        out.line("submit phase        %.2f s (%.1f submissions/s)", (submitEnd - start) / 1e9,
                subs.size() / ((submitEnd - start) / 1e9));
        out.line("elapsed             %.2f s (first submission to last verdict)", window / 1e9);
        out.line("throughput          %.1f jobs/s (verdicts per second over that window)",
                verdictCount / (window / 1e9));
        if (e2e.length > 0) {
            out.line("submit->verdict ms  p50 %.0f  p95 %.0f  p99 %.0f  max %.0f  (min %.0f)", pct(e2e, 50),
                    pct(e2e, 95), pct(e2e, 99), e2e[e2e.length - 1] / 1e6, e2e[0] / 1e6);
        }
        out.line("HTTP submit ms      p50 %.1f  p99 %.1f  max %.1f  (per request: %d job(s) each)", pct(http, 50), pct(http, 99),
                http[http.length - 1] / 1e6, o.batch);
        out.line("RSS MB (VmRSS before -> after measuring, VmHWM peak) and CPU seconds used while measuring:");
        for (var e : rssAfter.entrySet()) {
            long[] a = e.getValue();
            long[] b = rssBefore.getOrDefault(e.getKey(), new long[] {-1, -1, -1, -1});
            out.line("  %-12s pid %-7d %6d -> %6d  peak %6d  cpu %6.1f s", e.getKey(), a[2], b[0] / 1024, a[0] / 1024,
                    a[1] / 1024, b[3] < 0 || a[3] < 0 ? Double.NaN : (a[3] - b[3]) / 1000.0);
        }
        loadAverage(out);
        for (Submission s : refused.subList(0, Math.min(5, refused.size()))) {
            out.line("refused job %d: HTTP %d %s", s.index(), s.status(), s.error());
        }
        boolean bad = r.missing() > 0 || !refused.isEmpty();
        out.line(bad ? "RESULT: FAIL (%d jobs without a verdict, %d refused)" : "RESULT: OK", r.missing(),
                refused.size());
        return bad ? 1 : 0;
    }

    /**
     * What one verified job cost: CPU of each process, and log offsets written per topic (records
     * plus transaction markers, internal changelog and repartition topics included); then how many
     * tasks each worker ran since it started, to show whether every worker got work.
     */
    private void reportPerJob(Result r, Map<String, long[]> before, Map<String, long[]> after,
                              Map<String, Long> endsBefore, Map<String, Long> endsAfter, Market market) {
        PrintfOut out = new PrintfOut();
        int jobs = r.outcomes().values().stream().mapToInt(Integer::intValue).sum();
        if (jobs == 0) {
            return;
        }
        StringBuilder cpu = new StringBuilder();
        long total = 0;
        for (var e : after.entrySet()) {
            long[] b = before.get(e.getKey());
            if (b != null && b[3] >= 0 && e.getValue()[3] >= 0) {
                long ms = e.getValue()[3] - b[3];
                total += ms;
                if (!e.getKey().startsWith("worker-")) {
                    cpu.append(String.format(Locale.ROOT, " %s %.1f", e.getKey(), (double) ms / jobs));
                }
            }
        }
        long workersMs = after.entrySet().stream().filter(e -> e.getKey().startsWith("worker-")
                && before.containsKey(e.getKey())).mapToLong(e -> e.getValue()[3] - before.get(e.getKey())[3]).sum();
        out.line("CPU ms per verified job: total %.1f =%s workers %.1f", (double) total / jobs, cpu,
                (double) workersMs / jobs);
        List<Map.Entry<String, Long>> grew = new ArrayList<>();
        long all = 0;
        for (var e : endsAfter.entrySet()) {
            long d = e.getValue() - endsBefore.getOrDefault(e.getKey(), 0L);
            if (d > 0) {
                grew.add(Map.entry(e.getKey(), d));
                all += d;
            }
        }
        grew.sort(Map.Entry.<String, Long>comparingByValue().reversed());
        out.line("log offsets per verified job (records + transaction markers): %.1f in all", (double) all / jobs);
        for (var e : grew) {
            out.line("  %6.1f  %s", (double) e.getValue() / jobs, e.getKey());
        }
        List<Long> tasks = new ArrayList<>();
        long identities = 0;
        long identitiesWithTasks = 0;
        for (int i = 1; ; i++) {
            ServiceProcess w;
            try {
                w = market.service("worker-" + i);
            } catch (IllegalArgumentException end) {
                break;
            }
            JsonNode h = health(w);
            tasks.add(h.path("tasksDone").asLong(-1));
            identities += h.path("identities").asLong(0);
            identitiesWithTasks += h.path("identitiesWithTasks").asLong(0);
        }
        if (!tasks.isEmpty()) {
            List<Long> sorted = tasks.stream().sorted().toList();
            out.line("tasks run per worker JVM since start (%d JVMs): min %d  median %d  max %d  JVMs with none: %d",
                    sorted.size(), sorted.get(0), sorted.get(sorted.size() / 2), sorted.get(sorted.size() - 1),
                    sorted.stream().filter(t -> t == 0).count());
            out.line("workers (identities) that ran at least one task since start: %d of %d", identitiesWithTasks,
                    identities);
        }
    }

    /** A worker's admin /health; an empty object when it does not answer. */
    private static JsonNode health(ServiceProcess worker) {
        String port = worker.env().get("AGORA_WORKER_ADMIN_PORT");
        try {
            HttpResponse<String> a = HTTP.send(HttpRequest.newBuilder(
                            URI.create("http://localhost:" + port + "/health")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(a.body());
        } catch (IOException | RuntimeException e) {
            return JSON.createObjectNode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return JSON.createObjectNode();
        }
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The end offset of every topic of the stack, summed over its partitions. */
    private static Map<String, Long> logEnds(LocalStack stack) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrap());
        p.putAll(stack.adminClientProperties());
        Map<String, Long> out = new TreeMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            c.listTopics(Duration.ofSeconds(30)).forEach((topic, infos) ->
                    infos.forEach(i -> parts.add(new TopicPartition(topic, i.partition()))));
            c.endOffsets(parts, Duration.ofSeconds(30)).forEach((tp, end) -> out.merge(tp.topic(), end, Long::sum));
        } catch (RuntimeException e) {
            log("cannot read the topics' end offsets: " + e);
        }
        return out;
    }

    /** VmRSS, VmHWM (kB), pid and CPU ms (with child processes) of every service and of the stack's own processes. */
    private static Map<String, long[]> rss(Market market, LocalStack stack) {
        Map<String, long[]> out = new LinkedHashMap<>();
        // every process the stack's script started (brokers, registry and its gate, PostgreSQL, ...)
        StackCpu.pids(stack.home().resolve("run")).forEach((name, pid) -> out.put(name, status(pid)));
        List<String> names = new ArrayList<>(List.of("ledger-sink", "matcher", "verifier", "ingest-api"));
        for (int i = 1; ; i++) {
            try {
                market.service("worker-" + i);
                names.add("worker-" + i);
            } catch (IllegalArgumentException end) {
                break;
            }
        }
        for (String n : names) {
            ServiceProcess p = market.service(n);
            out.put(n, status(p.pid()));
        }
        return out;
    }

    private static long[] status(long pid) {
        long rss = -1;
        long hwm = -1;
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (l.startsWith("VmRSS:")) {
                    rss = Long.parseLong(l.replaceAll("\\D", ""));
                } else if (l.startsWith("VmHWM:")) {
                    hwm = Long.parseLong(l.replaceAll("\\D", ""));
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // gone
        }
        return new long[] {rss, hwm, pid, StackCpu.treeCpuMs(pid)};
    }

    private static void loadAverage(PrintfOut out) {
        out.line("%s", StackCpu.loadAverage());
    }

    private static double pct(long[] sorted, double p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    private static final class PrintfOut {
        void line(String fmt, Object... args) {
            System.out.println(String.format(Locale.ROOT, fmt, args));
        }
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    private static void log(String msg) {
        System.err.println("[bench " + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")) + "] " + msg);
    }

    private static void sleepNanos(long n) {
        try {
            TimeUnit.NANOSECONDS.sleep(n);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int envInt(String name, int def) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? def : Integer.parseInt(v.trim());
    }
}
