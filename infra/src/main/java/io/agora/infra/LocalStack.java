package io.agora.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A running infrastructure stack (Kafka, Apicurio Registry, PostgreSQL) for tests and
 * benchmarks, started through {@code infra/bin/agora stack-up}.
 *
 * <p>By default the stack is isolated from the developer's: {@code AGORA_HOME=<repo>/infra/target/it-stack},
 * Kafka on 19092 (controller 19093), registry on 18081, PostgreSQL on 15433 (fsync off). Docker is
 * left alone ({@code infra/bin/test} starts it; call {@link #ensureDocker()} if a test needs it).
 * With {@code AGORA_IT_REUSE=1} it uses the dev stack instead (default AGORA_HOME and ports, or
 * the AGORA_* overrides in the environment), starting it if needed and never stopping it.
 *
 * <pre>{@code
 * LocalStack stack = LocalStack.shared();     // started once per JVM, stopped by a shutdown hook
 * props.put("bootstrap.servers", stack.bootstrap());
 * AgoraSerdes serdes = AgoraSerdes.registry(stack.registryUrl());
 * DriverManager.getConnection(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword());
 * }</pre>
 */
public final class LocalStack {
    public static final int IT_KAFKA_PORT = 19092;
    public static final int IT_CONTROLLER_PORT = 19093;
    public static final int IT_REGISTRY_PORT = 18081;
    public static final int IT_PG_PORT = 15433;

    private static LocalStack shared;
    private static RuntimeException sharedFailure;

    private final Path repoRoot;
    private final Path home;
    private final int kafkaPort;
    private final int controllerPort;
    private final int registryPort;
    private final int pgPort;
    private final boolean reused;
    private final Map<String, String> env;
    private volatile boolean stopped;

    private LocalStack(Path repoRoot, Path home, int kafkaPort, int controllerPort, int registryPort, int pgPort,
                       boolean reused, Map<String, String> extraEnv) {
        this.repoRoot = repoRoot;
        this.home = home;
        this.kafkaPort = kafkaPort;
        this.controllerPort = controllerPort;
        this.registryPort = registryPort;
        this.pgPort = pgPort;
        this.reused = reused;
        Map<String, String> e = new LinkedHashMap<>();
        e.put("AGORA_HOME", home.toString());
        e.put("AGORA_KAFKA_PORT", Integer.toString(kafkaPort));
        e.put("AGORA_KAFKA_CONTROLLER_PORT", Integer.toString(controllerPort));
        e.put("AGORA_REGISTRY_PORT", Integer.toString(registryPort));
        e.put("AGORA_PG_PORT", Integer.toString(pgPort));
        // no registry gate: the tests' own serdes register as they go; stack-up registers every topic's
        // schema once (SchemaSetup) and the market's services and workers only look them up (Market)
        e.put("AGORA_REGISTRY_GATE", "0");
        e.putAll(extraEnv);
        this.env = Map.copyOf(e);
    }

    /**
     * The stack of this JVM: started on first call (isolated and wiped first, or the dev stack
     * with {@code AGORA_IT_REUSE=1}) and stopped by a shutdown hook unless reused.
     */
    public static synchronized LocalStack shared() {
        if (sharedFailure != null) {
            // fail the next test classes fast instead of retrying a start that already failed
            throw new IllegalStateException("the local stack did not start earlier in this JVM", sharedFailure);
        }
        if (shared == null) {
            LocalStack stack = fromEnvironment();
            if (!stack.reused) {
                // registered first: a half-started stack is stopped too
                Runtime.getRuntime().addShutdownHook(new Thread(stack::stop, "local-stack-down"));
            }
            try {
                if (!stack.reused) {
                    // every test run starts from empty topics, registry and database: data left by an
                    // earlier run (other workers, records of an older build) must not leak into this one
                    stack.agora(Duration.ofMinutes(2), "wipe");
                }
                stack.start();
            } catch (RuntimeException e) {
                sharedFailure = e;
                throw e;
            }
            shared = stack;
        }
        return shared;
    }

    /** A stack described by the environment, not started yet. */
    public static LocalStack fromEnvironment() {
        Path repo = repoRoot();
        // the download cache is shared with the dev stack: it only holds immutable distributions
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("AGORA_DIST", System.getenv().getOrDefault("AGORA_DIST", repo.resolve(".agora/dist").toString()));
        if ("1".equals(System.getenv("AGORA_IT_REUSE"))) {
            Path home = Path.of(System.getenv().getOrDefault("AGORA_HOME", repo.resolve(".agora").toString()));
            return new LocalStack(repo, home, envInt("AGORA_KAFKA_PORT", 9092), envInt("AGORA_KAFKA_CONTROLLER_PORT", 9093),
                    envInt("AGORA_REGISTRY_PORT", 8081), envInt("AGORA_PG_PORT", 5433), true, extra);
        }
        extra.put("AGORA_STACK_DOCKER", "0");
        extra.put("AGORA_PG_FAST", "1");
        return isolated(repo, repo.resolve("infra/target/it-stack"), IT_KAFKA_PORT, IT_CONTROLLER_PORT,
                IT_REGISTRY_PORT, IT_PG_PORT, extra);
    }

    /** An isolated stack with its own home and ports, not started yet (e.g. for a second cluster). */
    public static LocalStack isolated(Path repoRoot, Path home, int kafkaPort, int controllerPort, int registryPort,
                                      int pgPort, Map<String, String> extraEnv) {
        return new LocalStack(repoRoot, home.toAbsolutePath(), kafkaPort, controllerPort, registryPort, pgPort, false,
                extraEnv);
    }

    /** Runs {@code agora stack-up}: idempotent, reuses whatever of this stack already runs. */
    public LocalStack start() {
        agora(Duration.ofMinutes(5), "stack-up");
        stopped = false;
        return this;
    }

    /** Runs {@code agora down} (not for a reused dev stack). Idempotent. */
    public synchronized void stop() {
        if (reused || stopped) {
            return;
        }
        stopped = true;
        agora(Duration.ofMinutes(2), "down");
    }

    /** Stops one component gracefully ({@code kafka}, {@code registry}, {@code postgres}); {@link #start()} restarts it. */
    public void stopComponent(String name) {
        agora(Duration.ofMinutes(2), "stop", name);
    }

    /** SIGKILLs one component (postgres: immediate shutdown); {@link #start()} restarts it. */
    public void killComponent(String name) {
        agora(Duration.ofMinutes(1), "kill", name);
    }

    /** Starts dockerd if needed and builds the {@code agora/busybox:1} job image if missing. */
    public void ensureDocker() {
        agora(Duration.ofMinutes(10), "docker-up");
    }

    public String bootstrap() {
        return "localhost:" + kafkaPort;
    }

    /** Apicurio v2 API, as {@code AGORA_REGISTRY_URL} and {@code AgoraSerdes.registry(url)} expect it. */
    public String registryUrl() {
        return registryBaseUrl() + "/apis/registry/v2";
    }

    /** Confluent-compatible API of the same registry. */
    public String ccompatUrl() {
        return registryBaseUrl() + "/apis/ccompat/v7";
    }

    public String registryBaseUrl() {
        return "http://localhost:" + registryPort;
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://localhost:" + pgPort + "/agora";
    }

    public String jdbcUser() {
        return "agora";
    }

    public String jdbcPassword() {
        return "agora";
    }

    public int kafkaPort() {
        return kafkaPort;
    }

    public int controllerPort() {
        return controllerPort;
    }

    public int registryPort() {
        return registryPort;
    }

    public int pgPort() {
        return pgPort;
    }

    public Path home() {
        return home;
    }

    public Path logsDir() {
        return home.resolve("logs");
    }

    public Path repo() {
        return repoRoot;
    }

    public boolean reused() {
        return reused;
    }

    /** The Kafka principals of this stack (admin, services, workers). */
    public KafkaCredentials kafkaCredentials() {
        return new KafkaCredentials(home, bootstrap());
    }

    /** The properties of a Kafka client of this stack connecting as the admin: bootstrap, security, then {@code props}. */
    public Map<String, Object> asAdmin(Map<String, ?> props) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("bootstrap.servers", bootstrap());
        p.putAll(adminClientProperties());
        p.putAll(props);
        return p;
    }

    /** Security settings of a client connecting as the admin (super user): tests and tools. */
    public Map<String, Object> adminClientProperties() {
        return kafkaCredentials().clientProperties(KafkaCredentials.ADMIN);
    }

    /** Where the market's infrastructure is, for a {@link io.agora.infra.market.Market} on this stack. */
    public io.agora.infra.market.StackEndpoints endpoints() {
        return new io.agora.infra.market.StackEndpoints(bootstrap(), registryUrl(), jdbcUrl(), jdbcUser(), jdbcPassword(),
                kafkaCredentials());
    }

    /** The variables a service launched on this stack needs (ARCHITECTURE.md's configuration table). */
    public Map<String, String> serviceEnv() {
        Map<String, String> e = new LinkedHashMap<>();
        e.put("AGORA_BOOTSTRAP", bootstrap());
        e.put("AGORA_REGISTRY_URL", registryUrl());
        e.put("AGORA_JDBC_URL", jdbcUrl());
        e.put("AGORA_JDBC_USER", jdbcUser());
        e.put("AGORA_JDBC_PASSWORD", jdbcPassword());
        return e;
    }

    /** The environment {@code infra/bin/agora} runs with for this stack. */
    public Map<String, String> scriptEnv() {
        return env;
    }

    /** Runs {@code infra/bin/agora <args>} with this stack's environment; output goes to {@code logs/agora-script.log}. */
    public void agora(Duration timeout, String... args) {
        Path script = repoRoot.resolve("infra/bin/agora");
        Path logFile = home.resolve("logs/agora-script.log");
        try {
            Files.createDirectories(logFile.getParent());
            Files.writeString(logFile, "\n$ agora " + String.join(" ", args) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            ProcessBuilder pb = new ProcessBuilder(concat(script.toString(), args))
                    .directory(repoRoot.toFile())
                    .redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("agora " + String.join(" ", args) + " did not finish in " + timeout
                        + "; see " + logFile + "\n" + tail(logFile));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("agora " + String.join(" ", args) + " failed (exit " + p.exitValue()
                        + "); see " + logFile + "\n" + tail(logFile));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + script, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running agora " + String.join(" ", args), e);
        }
    }

    /**
     * The repository root: the first of the working directory and its parents that holds
     * {@code infra/bin/agora} (surefire runs tests in the module directory, {@code infra/}).
     * {@code -Dagora.repo=...} or env {@code AGORA_REPO} override it.
     */
    public static Path repoRoot() {
        String explicit = System.getProperty("agora.repo", System.getenv("AGORA_REPO"));
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit).toAbsolutePath().normalize();
        }
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("infra/bin/agora")) && Files.isRegularFile(d.resolve("pom.xml"))) {
                return d;
            }
        }
        throw new IllegalStateException("no repository root (a directory with infra/bin/agora) above " + dir);
    }

    private static int envInt(String name, int def) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? def : Integer.parseInt(v.trim());
    }

    private static List<String> concat(String first, String... rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return List.of(all);
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public String toString() {
        return "LocalStack[home=" + home + ", kafka=" + bootstrap() + ", registry=" + registryUrl() + ", pg=" + jdbcUrl()
                + (reused ? ", reused" : "") + "]";
    }
}
