package io.agora.infra.chaos;

import io.agora.events.LedgerEntry;
import io.agora.infra.market.MarketClient;
import io.agora.ledger.AuditMain;
import io.agora.ledger.AuditReport;
import io.agora.ledger.JobProjection;
import io.agora.schemas.AgoraConfig;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.KafkaAccess;
import io.agora.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.postgresql.ds.PGSimpleDataSource;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code agora chaos}: the market under faults, on the cluster stack ({@code agora up --cluster}).
 * It submits jobs at a steady rate through both ingest-api instances while it SIGKILLs, in
 * rotation, every service instance, a worker and a broker (restarting each), and stops PostgreSQL
 * and the registry for a while each; then it checks, and prints: every job terminal, the ledger
 * balanced and conserved, no transaction twice on the ledger topic, the audit replay equal to the
 * live database ({@link AuditMain}), and what went to the DLQ and why. It also prints how the work
 * is spread over the instances ({@link Spread}; a killed streams instance stays down until the
 * other instance holds its tasks) and, per fault, how long placements and verdicts stalled
 * ({@link Stalls}). Exit 0 when nothing is violated, 1 on any violation, 2 when it could not run.
 *
 * <p>Launched by {@code infra/bin/agora chaos}, which passes the stack in the environment:
 * {@code AGORA_CHAOS_APIS} (the ingest-api URLs, comma-separated), {@code AGORA_CHAOS_KILLS} (the
 * components to SIGKILL, in order), {@code AGORA_CHAOS_SCRIPT} (the script, for {@code kill},
 * {@code start} and {@code stop}), {@code AGORA_ADMIN_TOKEN}, {@code AGORA_BOOTSTRAP},
 * {@code AGORA_REGISTRY_URL}, {@code AGORA_JDBC_*}, the admin's {@code AGORA_KAFKA_*} and
 * {@code AGORA_CHAOS_INSTANCES} (name=URL of each matcher, verifier and ingest-api instance).
 */
public final class Chaos {
    static final String USAGE = """
            agora chaos [--jobs N] [--rate R|auto] [--calibrate S] [--inflight K] [--outage S] [--down S] [--gap S]
                        [--redundancy n --quorum k] [--timeout S]
              --jobs N        jobs to submit (10000)
              --rate R        submissions per second (20); auto: the rate --calibrate recommends
              --calibrate S   first S seconds without faults, K jobs in flight: prints the jobs/s this
                              machine completes and the rate to run at (0: none; 60 with --rate auto)
              --inflight K    jobs kept in flight while calibrating (16)
              --outage S      seconds PostgreSQL and the registry stay stopped (30)
              --down S        seconds a killed component stays down before its restart (3)
              --gap S         seconds between two faults (5)
              --redundancy n, --quorum k   of every job (3, 2)
              --timeout S     after the last submission, how long jobs may take to end (300)""";
    static final long MAX_PRICE = 1000;
    static final long JOB_TIMEOUT_MS = 60_000;
    /** How long a killed streams instance stays down at most while its tasks move to the other instance. */
    static final int TAKEOVER_S = 120;

    /** The run's settings. */
    record Options(int jobs, double rate, int outageS, int downS, int gapS, int redundancy, int quorum, int timeoutS,
                   boolean autoRate, int calibrateS, int inflight) {
        static Options parse(String[] args) {
            Map<String, String> v = new HashMap<>();
            for (int i = 0; i < args.length; i++) {
                if (!args[i].startsWith("--") || i + 1 >= args.length) {
                    throw new IllegalArgumentException("unknown argument " + args[i]);
                }
                v.put(args[i], args[++i]);
            }
            List<String> known = List.of("--jobs", "--rate", "--outage", "--down", "--gap", "--redundancy", "--quorum",
                    "--timeout", "--calibrate", "--inflight");
            v.keySet().stream().filter(k -> !known.contains(k)).findFirst().ifPresent(k -> {
                throw new IllegalArgumentException("unknown option " + k);
            });
            boolean auto = "auto".equals(v.get("--rate"));
            Options o = new Options(Integer.parseInt(v.getOrDefault("--jobs", "10000")),
                    auto ? 0 : Double.parseDouble(v.getOrDefault("--rate", "20")), Integer.parseInt(v.getOrDefault("--outage", "30")),
                    Integer.parseInt(v.getOrDefault("--down", "3")), Integer.parseInt(v.getOrDefault("--gap", "5")),
                    Integer.parseInt(v.getOrDefault("--redundancy", "3")), Integer.parseInt(v.getOrDefault("--quorum", "2")),
                    Integer.parseInt(v.getOrDefault("--timeout", "300")), auto,
                    Integer.parseInt(v.getOrDefault("--calibrate", auto ? "60" : "0")), Integer.parseInt(v.getOrDefault("--inflight", "16")));
            if (o.jobs < 1 || (!auto && o.rate <= 0) || o.outageS < 0 || o.downS < 0 || o.gapS < 0 || o.quorum < 1
                    || o.quorum > o.redundancy || o.calibrateS < 0 || o.inflight < 1 || (auto && o.calibrateS == 0)) {
                throw new IllegalArgumentException("need --jobs >= 1, --rate > 0 or auto (with --calibrate > 0),"
                        + " 1 <= --quorum <= --redundancy, --inflight >= 1");
            }
            return o;
        }

        /** The same run at {@code submissionsPerSecond}. */
        Options at(double submissionsPerSecond) {
            return new Options(jobs, submissionsPerSecond, outageS, downS, gapS, redundancy, quorum, timeoutS, false,
                    calibrateS, inflight);
        }
    }

    /** One fault of the rotation: SIGKILL and restart, or a stop for a while. */
    record Fault(String target, boolean kill) {
    }

    /** A fault as it happened: when it was injected and when its target was started again. */
    record Injected(Fault fault, Instant at, Instant restarted) {
    }

    private Options o;
    private final Map<String, String> env;
    private final PrintStream out;
    private final List<MarketClient> apis = new ArrayList<>();
    private final List<String> violations = Collections.synchronizedList(new ArrayList<>());
    private final Map<Integer, String> jobIds = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> submitProblems = new ConcurrentHashMap<>();
    private final AtomicLong retries = new AtomicLong();
    private final List<Injected> injected = Collections.synchronizedList(new ArrayList<>());
    private final long runId = System.currentTimeMillis();
    private volatile boolean submitting = true;
    private final Spread spread;

    Chaos(Options o, Map<String, String> env, PrintStream out) {
        this.o = o;
        this.env = env;
        this.out = out;
        for (String api : require("AGORA_CHAOS_APIS").split(",")) {
            apis.add(new MarketClient(api.strip()));
        }
        spread = Spread.parse(env.getOrDefault("AGORA_CHAOS_INSTANCES", ""));
    }

    public static void main(String[] args) {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.out.println(e.getMessage() + "\n" + USAGE);
            System.exit(2);
            return;
        }
        int code;
        try {
            code = new Chaos(o, System.getenv(), System.out).run();
        } catch (Exception e) {
            e.printStackTrace(System.out);
            code = 2;
        }
        System.exit(code);
    }

    int run() throws Exception {
        String clientId = "chaos-" + runId;
        String admin = env.getOrDefault("AGORA_ADMIN_TOKEN", "dev-admin-token");
        String key = apis.get(0).issueKey(admin, clientId);
        long perJob = MAX_PRICE * ((JOB_TIMEOUT_MS + 999) / 1000) * 2L * o.redundancy;
        MarketClient.Answer d = apis.get(0).deposit(admin, clientId, Math.max(1_000_000_000L, 2L * perJob * o.jobs));
        if (d.status() / 100 != 2) {
            throw new IllegalStateException("deposit refused: " + d);
        }
        Thread.sleep(3000); // the deposit reaches the matcher's admission
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(require("AGORA_JDBC_URL"));
        ds.setUser(env.getOrDefault("AGORA_JDBC_USER", "agora"));
        ds.setPassword(env.getOrDefault("AGORA_JDBC_PASSWORD", "agora"));
        if (o.calibrateS() > 0) {
            double recommended = calibrate(key, ds);
            if (o.autoRate()) {
                o = o.at(recommended);
            }
        }
        List<Fault> rotation = new ArrayList<>();
        for (String t : require("AGORA_CHAOS_KILLS").split("\\s+")) {
            rotation.add(new Fault(t, true));
        }
        rotation.add(new Fault("postgres", false));
        rotation.add(new Fault("registry", false));
        log("chaos run " + runId + ": " + o.jobs + " jobs at " + o.rate + "/s (n=" + o.redundancy + " k=" + o.quorum
                + ") through " + apis.size() + " ingest-api instances; faults: "
                + rotation.stream().map(f -> (f.kill ? "kill " : "stop ") + f.target).toList());

        printSpread("work spread before the run");
        long t0 = System.nanoTime();
        Thread faults = new Thread(() -> faults(rotation), "chaos-faults");
        faults.start();
        submitAll(key);
        long submitted = System.nanoTime();
        submitting = false;
        faults.join();
        log("submitted " + jobIds.size() + "/" + o.jobs + " in " + seconds(submitted - t0) + " s (" + retries.get()
                + " retries" + (submitProblems.isEmpty() ? "" : ", answers on the way: " + submitProblems) + ")");
        if (jobIds.size() < o.jobs) {
            violations.add((o.jobs - jobIds.size()) + " jobs could not be submitted");
        }

        checkTerminal(ds);
        reportOutcomes(ds);
        printSpread("work spread after the run (processed records and submissions since each instance's last start)");
        reportStalls(ds);
        checkLedger(ds);
        checkLedgerTopic();
        checkAudit();
        reportDlq();

        out.println();
        out.println("chaos: " + jobIds.size() + " jobs in " + seconds(System.nanoTime() - t0) + " s, "
                + (violations.isEmpty() ? "no violation" : violations.size() + " violation(s):"));
        violations.forEach(v -> out.println("  VIOLATION " + v));
        return violations.isEmpty() ? 0 : 1;
    }

    // ------------------------------------------------------------ load

    private void submitAll(String key) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(4, Math.min(64, (int) Math.ceil(o.rate))));
        long start = System.nanoTime();
        long periodNanos = (long) (1e9 / o.rate);
        for (int i = 0; i < o.jobs; i++) {
            long due = start + i * periodNanos;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            int n = i;
            pool.execute(() -> submitOne(key, n));
            if ((i + 1) % Math.max(1, o.jobs / 10) == 0) {
                log("submitting: " + (i + 1) + " handed out, " + jobIds.size() + " accepted");
            }
        }
        pool.shutdown();
        pool.awaitTermination(30, TimeUnit.MINUTES);
    }

    /** Submits job {@code n} of the run. */
    private void submitOne(String key, int n) {
        String id = submit(key, "chaos-" + runId + "-" + n, n);
        if (id != null) {
            jobIds.put(n, id);
        }
    }

    /**
     * Submits a job named {@code name} (its idempotency key and output), retrying (same key, next
     * instance) until accepted or 10 minutes pass: its id, or null.
     */
    private String submit(String key, String name, int n) {
        String body = MarketClient.json(Map.of(
                "image", "agora/busybox:1",
                "command", List.of("sh", "-c", "echo " + name),
                "redundancy", o.redundancy,
                "quorum", o.quorum,
                "cpus", 1.0,
                "timeoutMs", JOB_TIMEOUT_MS,
                "maxPricePerCpuSecondMicros", MAX_PRICE));
        long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        for (int attempt = 0; System.nanoTime() < end; attempt++) {
            MarketClient api = apis.get((n + attempt) % apis.size());
            String problem;
            try {
                MarketClient.Answer a = api.submit(key, body, name);
                if (a.status() / 100 == 2 && a.text("jobId") != null) {
                    return a.text("jobId");
                }
                problem = "HTTP " + a.status();
            } catch (RuntimeException e) {
                problem = "no answer";
            }
            submitProblems.computeIfAbsent(problem, p -> new AtomicInteger()).incrementAndGet();
            retries.incrementAndGet();
            sleep(Math.min(2000, 200L * (attempt + 1)));
        }
        return null;
    }

    // ------------------------------------------------------------ calibration

    /**
     * The rate this machine sustains, measured before any fault: for {@code --calibrate} seconds it
     * keeps {@code --inflight} jobs (of the run's shape) in flight, submitting one as each ends, and
     * counts the COMPLETED ones. Prints the completions per second and the rate it recommends for the
     * run ({@link Calibration#recommendedRate}); returns that rate.
     */
    private double calibrate(String key, PGSimpleDataSource ds) throws InterruptedException {
        log("calibrating for " + o.calibrateS() + " s without faults, " + o.inflight() + " jobs in flight");
        Set<String> open = new HashSet<>();
        Map<String, Integer> ended = new TreeMap<>();
        int n = 0;
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(o.calibrateS());
        while (System.nanoTime() < end) {
            while (open.size() < o.inflight()) {
                String id = submit(key, "chaos-" + runId + "-calibrate-" + n, n);
                n++;
                if (id != null) {
                    open.add(id);
                }
            }
            Thread.sleep(500);
            try {
                terminal(ds, open).forEach((id, status) -> {
                    open.remove(id);
                    ended.merge(status, 1, Integer::sum);
                });
            } catch (SQLException e) {
                log("calibration: job statuses not readable: " + e.getMessage());
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int completed = ended.getOrDefault("COMPLETED", 0);
        double recommended = Calibration.recommendedRate(completed, seconds);
        out.printf("calibration: %d jobs submitted, ended %s in %.1f s (%d still in flight, load %s): %.2f COMPLETED jobs/s;"
                        + " recommended --rate %.2f (%.0f %% of it: the faults cost capacity)%n", n, ended, seconds, open.size(),
                loadAverage(), completed / seconds, recommended, Calibration.SUSTAINED_SHARE * 100);
        return recommended;
    }

    /** The statuses of those of {@code ids} that are terminal in the live database. */
    private static Map<String, String> terminal(PGSimpleDataSource ds, Set<String> ids) throws SQLException {
        Map<String, String> out = new HashMap<>();
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT job_id, status FROM jobs WHERE job_id = ANY(?)")) {
            ps.setArray(1, c.createArrayOf("text", ids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (JobProjection.TERMINAL.contains(rs.getString(2))) {
                        out.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
        }
        return out;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (Exception e) {
            return "?";
        }
    }

    // ------------------------------------------------------------ faults

    /** The rotation, once at least, and again while jobs are still being submitted. */
    private void faults(List<Fault> rotation) {
        int round = 0;
        do {
            round++;
            for (Fault f : rotation) {
                sleep(o.gapS * 1000L);
                Instant at = Instant.now();
                if (f.kill) {
                    List<String> tasks = spread.read(f.target).active();
                    script("kill", f.target);
                    sleep(o.downS * 1000L);
                    awaitTakeover(f.target, tasks);
                } else {
                    script("stop", f.target);
                    sleep(o.outageS * 1000L);
                }
                script("start", f.target);
                injected.add(new Injected(f, at, Instant.now()));
            }
            log("fault rotation " + round + " done");
        } while (submitting);
    }

    /**
     * A killed streams instance's active tasks move to the other instance of its app (once the
     * group notices it is gone): waits until every one of them is active elsewhere, up to
     * {@link #TAKEOVER_S}, and prints where each went.
     */
    private void awaitTakeover(String killed, List<String> tasks) {
        if (tasks.isEmpty()) {
            return;
        }
        long start = System.nanoTime();
        Map<String, List<String>> where = Map.of();
        while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(TAKEOVER_S)) {
            where = Spread.whereNow(killed, tasks, spread.read());
            if (!where.containsKey("none")) {
                break;
            }
            sleep(1000);
        }
        log(killed + "'s " + tasks.size() + " active tasks " + (where.containsKey("none") ? "NOT all taken over" : "taken over")
                + " " + seconds(System.nanoTime() - start) + " s after " + o.downS + " s down, now held by: "
                + where.entrySet().stream().map(e -> e.getKey() + " " + Spread.shortList(e.getValue())).toList());
    }

    private void printSpread(String title) {
        if (!spread.instances().isEmpty()) {
            out.println(title + ":\n" + Spread.table(spread.read()));
        }
    }

    private void script(String command, String target) {
        log(command + " " + target);
        ProcessBuilder pb = new ProcessBuilder(require("AGORA_CHAOS_SCRIPT"), command, target)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(Path.of(require("AGORA_HOME"), "logs", "chaos-script.log").toFile()));
        pb.environment().keySet().removeIf(k -> k.startsWith("AGORA_KAFKA_") && !k.endsWith("_PORT"));
        try {
            Process p = pb.start();
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                violations.add("agora " + command + " " + target + " failed (see logs/chaos-script.log)");
            }
        } catch (Exception e) {
            violations.add("agora " + command + " " + target + ": " + e);
        }
    }

    // ------------------------------------------------------------ checks

    /** Every job terminal in the live database (the ledger sink's projection), within the timeout. */
    private void checkTerminal(PGSimpleDataSource ds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.timeoutS);
        Map<String, Integer> byStatus = Map.of();
        int terminal = 0;
        while (true) {
            try {
                byStatus = statuses(ds);
                terminal = byStatus.entrySet().stream().filter(e -> JobProjection.TERMINAL.contains(e.getKey()))
                        .mapToInt(Map.Entry::getValue).sum();
            } catch (SQLException e) {
                log("job statuses not readable yet: " + e.getMessage());
            }
            if (terminal == jobIds.size() || System.nanoTime() > end) {
                break;
            }
            log("terminal: " + terminal + "/" + jobIds.size() + " " + byStatus);
            Thread.sleep(5000);
        }
        out.println("every job terminal: " + (terminal == jobIds.size() ? "yes" : "NO") + " (" + terminal + "/"
                + jobIds.size() + "; " + byStatus + ")");
        if (terminal != jobIds.size()) {
            violations.add((jobIds.size() - terminal) + " jobs not terminal " + o.timeoutS + " s after the last submission");
        }
    }

    /**
     * The run's jobs by outcome, COMPLETED and EXPIRED apart, and each EXPIRED job's reason (the job's
     * own, as the sink recorded it) with how far it got (placed or not, leases it lost): the counts by
     * reason are printed, every EXPIRED job is listed in {@code logs/chaos-<run>-expired.tsv}.
     */
    private void reportOutcomes(PGSimpleDataSource ds) {
        List<String> rows = new ArrayList<>();
        Map<String, Integer> byReason = new TreeMap<>();
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT j.job_id, coalesce(j.reason, '?'),"
                             + " (SELECT count(*) FROM job_events e WHERE e.job_id = j.job_id AND e.type IN ('ASSIGNED', 'REASSIGNED')),"
                             + " (SELECT count(*) FROM job_events e WHERE e.job_id = j.job_id AND e.reason = 'lease expired'),"
                             + " extract(epoch FROM j.updated_at - j.submitted_at)"
                             + " FROM jobs j WHERE j.job_id = ANY(?) AND j.status = 'EXPIRED' ORDER BY j.submitted_at")) {
            ps.setArray(1, c.createArrayOf("text", jobIds.values().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String reason = rs.getString(2) + (rs.getInt(3) == 0 ? " (never placed)" : " (placed)");
                    byReason.merge(reason, 1, Integer::sum);
                    rows.add(rs.getString(1) + "\t" + rs.getString(2) + "\t" + rs.getInt(3) + "\t" + rs.getInt(4)
                            + "\t" + String.format("%.1f", rs.getDouble(5)));
                }
            }
            Map<String, Integer> statuses = statuses(ds);
            out.println("outcomes: " + statuses.getOrDefault("COMPLETED", 0) + " COMPLETED, " + statuses.getOrDefault("EXPIRED", 0)
                    + " EXPIRED" + (statuses.size() > 2 || !statuses.keySet().stream().allMatch(Set.of("COMPLETED", "EXPIRED")::contains)
                    ? " (all: " + statuses + ")" : ""));
        } catch (SQLException e) {
            out.println("outcomes: not readable: " + e.getMessage());
            return;
        }
        if (rows.isEmpty()) {
            return;
        }
        Path list = Path.of(require("AGORA_HOME"), "logs", "chaos-" + runId + "-expired.tsv");
        try {
            Files.write(list, (String.join("\n", List.of("job\treason\tplacements\tleases expired\tseconds to EXPIRED"))
                    + "\n" + String.join("\n", rows) + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            list = null;
        }
        out.println("EXPIRED by reason" + (list == null ? "" : " (each job: " + list + ")") + ":");
        byReason.forEach((r, n) -> out.println("  " + n + " x " + r));
    }

    /**
     * Per fault, how long the market stalled: from the fault to the first placement
     * ({@code ASSIGNED}) and the first verdict ({@code COMPLETED}) of this run's jobs decided after
     * it, and the longest gap without one until the next fault (event times, so a stopped sink or
     * database does not count as a stall of the market).
     */
    private void reportStalls(PGSimpleDataSource ds) {
        Map<String, List<Instant>> events = new HashMap<>();
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT type, ts FROM job_events WHERE job_id = ANY(?) AND type IN ('ASSIGNED', 'COMPLETED') ORDER BY ts")) {
            ps.setArray(1, c.createArrayOf("text", jobIds.values().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    events.computeIfAbsent(rs.getString(1), t -> new ArrayList<>()).add(rs.getTimestamp(2).toInstant());
                }
            }
        } catch (SQLException e) {
            out.println("stalls: job events not readable: " + e.getMessage());
            return;
        }
        out.println("stall after each fault (s): first placement, first verdict after it; longest gap without one until the next fault:");
        List<Injected> faults = List.copyOf(injected);
        for (int i = 0; i < faults.size(); i++) {
            Injected f = faults.get(i);
            Instant until = i + 1 < faults.size() ? faults.get(i + 1).at() : Instant.now();
            List<Instant> placed = events.getOrDefault("ASSIGNED", List.of());
            List<Instant> decided = events.getOrDefault("COMPLETED", List.of());
            out.printf("  %s %-12s at %s (back %5.1f s later): placement %s, verdict %s; gaps %s / %s%n",
                    f.fault().kill() ? "kill" : "stop", f.fault().target(), LocalTime.ofInstant(f.at(), ZoneOffset.UTC)
                            .truncatedTo(ChronoUnit.SECONDS), Duration.between(f.at(), f.restarted()).toMillis() / 1000.0,
                    secondsOrNone(Stalls.firstAfter(placed, f.at()), f.at()), secondsOrNone(Stalls.firstAfter(decided, f.at()), f.at()),
                    String.format("%.1f", Stalls.longestGap(placed, f.at(), until).toMillis() / 1000.0),
                    String.format("%.1f", Stalls.longestGap(decided, f.at(), until).toMillis() / 1000.0));
        }
    }

    private static String secondsOrNone(Instant next, Instant from) {
        return next == null ? "none" : String.format("%.1f", Duration.between(from, next).toMillis() / 1000.0);
    }

    private Map<String, Integer> statuses(PGSimpleDataSource ds) throws SQLException {
        Map<String, Integer> out = new TreeMap<>();
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT coalesce(j.status, 'MISSING'), count(*) FROM unnest(?) AS s(id)"
                             + " LEFT JOIN jobs j ON j.job_id = s.id GROUP BY 1")) {
            Array ids = c.createArrayOf("text", jobIds.values().toArray());
            ps.setArray(1, ids);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getInt(2));
                }
            }
        }
        return out;
    }

    /** The live ledger: every transaction balanced, money conserved (AuditReport's invariants). */
    private void checkLedger(PGSimpleDataSource ds) throws SQLException {
        AuditReport invariants = AuditReport.check(ds, "agora");
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT (SELECT count(*) FROM ledger_transactions), coalesce(sum(amount_micros), 0),"
                             + " count(*) FROM ledger_postings");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            out.println("ledger balanced and conserved: " + (invariants.clean() ? "yes" : "NO") + " (" + rs.getLong(1)
                    + " transactions, " + rs.getLong(3) + " postings summing to " + rs.getLong(2) + " micro-credits)");
        }
        if (!invariants.clean()) {
            invariants.findings().forEach(f -> violations.add("ledger: " + f));
        }
    }

    /** Reads a whole topic (committed records only) as the admin. */
    private List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        Map<String, Object> p = new HashMap<>(KafkaAccess.clientProperties(AgoraConfig.keysOf(env)));
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, require("AGORA_BOOTSTRAP"));
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> ends = c.endOffsets(parts);
            long idle = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (parts.stream().anyMatch(tp -> c.position(tp) < ends.get(tp)) && System.nanoTime() < idle) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    all.add(r);
                    idle = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                }
            }
        }
        return all;
    }

    /** No transaction id twice among the committed records of the ledger topic. */
    private void checkLedgerTopic() {
        AgoraSerdes serdes = AgoraSerdes.forRegistryUrl(require("AGORA_REGISTRY_URL"));
        var de = serdes.valueSerde(Topics.LEDGER).deserializer();
        LedgerCopies read = new LedgerCopies();
        List<ConsumerRecord<byte[], byte[]>> records = readAll(Topics.LEDGER.name());
        for (ConsumerRecord<byte[], byte[]> r : records) {
            LedgerEntry e = de.deserialize(r.topic(), r.value());
            read.read(e.getTransactionId(), r.topic(), r.partition(), r.offset());
        }
        int twice = read.copies().size();
        out.println("no transaction twice on " + Topics.LEDGER.name() + ": " + (twice == 0 ? "yes" : "NO") + " ("
                + records.size() + " records, " + read.transactions() + " transactions" + (twice == 0 ? ""
                : ", twice or more: " + read.describe(10)) + ")");
        if (twice > 0) {
            violations.add(twice + " transactions more than once on the ledger topic");
        }
    }

    /**
     * The audit: the topics replayed into a fresh schema equal the live database, both taken at
     * the same ledger-sink offsets (a consistent snapshot of the live side, {@code AuditMain}), so
     * a market still running meanwhile does not make a difference.
     */
    private void checkAudit() {
        out.println("audit replay (agora audit) equal to the live database:");
        int code = AuditMain.run(new String[0], env, out);
        out.println("audit replay equal: " + (code == 0 ? "yes" : "NO (exit " + code + ")"));
        if (code != 0) {
            violations.add("the audit replay differs from the live database (or failed), exit " + code);
        }
    }

    /** What the DLQ holds, by app, source topic and reason. */
    private void reportDlq() {
        Map<String, Integer> groups = new TreeMap<>();
        List<ConsumerRecord<byte[], byte[]>> records = readAll(Topics.DLQ.name());
        for (ConsumerRecord<byte[], byte[]> r : records) {
            String reason = header(r, DeadLetters.H_REASON);
            String cut = reason.length() > 160 ? reason.substring(0, 160) + "..." : reason;
            groups.merge(header(r, DeadLetters.H_APP) + " <- " + header(r, DeadLetters.H_TOPIC) + ": " + cut, 1, Integer::sum);
        }
        out.println("DLQ: " + records.size() + " records" + (records.isEmpty() ? "" : ", by app <- topic: reason:"));
        groups.forEach((g, n) -> out.println("  " + n + " x " + g));
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? "?" : new String(h.value(), StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------ helpers

    private String require(String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException(name + " is not set (run chaos through infra/bin/agora chaos)");
        }
        return v;
    }

    private void log(String s) {
        synchronized (out) {
            out.println("[chaos " + LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + "] " + s);
        }
    }

    private static String seconds(long nanos) {
        return String.format("%.1f", nanos / 1e9);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
