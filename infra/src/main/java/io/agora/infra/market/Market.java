package io.agora.infra.market;

import io.agora.infra.Services;
import io.agora.schemas.AgoraConfig;
import io.agora.schemas.KafkaAccess;
import io.agora.schemas.MatcherKey;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The five services and some workers of the market, each in its own JVM, on a given stack.
 * Used by end-to-end and fault tests and by the benchmark; the dev script {@code infra/bin/agora}
 * starts the same main classes.
 */
public final class Market implements AutoCloseable {
    public static final String ADMIN_TOKEN = "it-admin-token";

    private final StackEndpoints stack;
    private final Path workDir;
    private final Path repoRoot;
    private final Services catalogue;
    private final Map<String, ServiceProcess> services = new LinkedHashMap<>();
    private final Map<String, String> extraEnv;
    private final int ingestPort;
    private final Path matcherKey;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    public Market(StackEndpoints stack, Path repoRoot, Path workDir, Map<String, String> extraEnv) {
        this.stack = stack;
        this.repoRoot = repoRoot;
        this.catalogue = Services.of(repoRoot);
        this.workDir = workDir;
        this.extraEnv = Map.copyOf(extraEnv);
        this.ingestPort = freePort();
        // provisioned before any service starts: the verifier and the workers read its public half at start
        Path keys = workDir.resolve("keys");
        MatcherKey.load(AgoraConfig.of(Map.of()), keys);
        this.matcherKey = keys.resolve("matcher.key");
        io.agora.schemas.ChallengeKey.loadOrCreate(keys.resolve("challenge.key"));
    }

    /**
     * Each service runs on its own module's classpath ({@code target/classes} plus the
     * {@code target/classpath.txt} written at package), as {@code infra/bin/agora} launches it:
     * two Micronaut apps on one classpath would load each other's beans.
     */
    String classpathOf(Services.Service service) {
        Path dir = repoRoot.resolve(service.module()).resolve("target");
        try {
            String deps = java.nio.file.Files.readString(dir.resolve("classpath.txt")).trim();
            return dir.resolve("classes") + java.io.File.pathSeparator + deps;
        } catch (IOException e) {
            throw new IllegalStateException(service.module() + " is not packaged (no target/classpath.txt): run mvn package first", e);
        }
    }

    public String apiUrl() {
        return "http://localhost:" + ingestPort;
    }

    /** The core services of the catalogue (ledger-sink, matcher, verifier, ingest-api), in its order. */
    public Market startCore() {
        Map<String, Map<String, String>> ports = Map.of(
                "ledger-sink", Map.of("AGORA_SINK_PORT", Integer.toString(freePort())),
                "matcher", Map.of("AGORA_MATCHER_ADMIN_PORT", Integer.toString(freePort())),
                "verifier", Map.of("AGORA_VERIFIER_ADMIN_PORT", Integer.toString(freePort())),
                "ingest-api", Map.of("AGORA_INGEST_PORT", Integer.toString(ingestPort)));
        for (Services.Service s : catalogue.core()) {
            start(s.name(), s.name(), ports.getOrDefault(s.name(), Map.of()));
        }
        return this;
    }

    /** A worker named {@code name}; mode is docker, simulated or wrong. */
    public ServiceProcess startWorker(String name, String mode, Map<String, String> env) {
        Map<String, String> e = new HashMap<>(env);
        e.put("AGORA_WORKER_MODE", mode);
        e.put("AGORA_WORKER_ADMIN_PORT", Integer.toString(freePort()));
        e.putIfAbsent("AGORA_WORKER_API_URL", apiUrl()); // where it fetches inputs and uploads outputs
        return start(name, "worker", e);
    }

    /** Starts process {@code name} running the catalogue's service {@code service}. */
    public ServiceProcess start(String name, String service, Map<String, String> env) {
        Services.Service svc = catalogue.named(service)
                .orElseThrow(() -> new IllegalArgumentException("unknown service " + service + " (not in " + Services.FILE + ")"));
        Map<String, String> e = new HashMap<>();
        e.put("AGORA_BOOTSTRAP", stack.bootstrap());
        e.put("AGORA_REGISTRY_URL", stack.registryUrl());
        // look-up only, as in the dev stack: stack-up registered every schema once (SchemaSetup), so
        // services and workers starting together never race to register a new version
        e.put("AGORA_REGISTRY_AUTO_REGISTER", "false");
        e.put("AGORA_JDBC_URL", stack.jdbcUrl());
        e.put("AGORA_JDBC_USER", stack.jdbcUser());
        e.put("AGORA_JDBC_PASSWORD", stack.jdbcPassword());
        e.put("AGORA_ADMIN_TOKEN", ADMIN_TOKEN);
        // each process connects as its own principal: a core service as its name, a worker as worker-<name>
        String principal = svc.core() ? svc.name() : KafkaAccess.workerPrincipal(name);
        if (!svc.core()) {
            stack.kafka().enrol(principal);
        }
        e.putAll(stack.kafka().env(principal));
        e.put("AGORA_STATE_DIR", workDir.resolve("state").resolve(name).toString());
        // the verifier writes the market's public key beside its key; ingest-api serves it
        e.put("AGORA_MARKET_PUBLIC_KEY_FILE", workDir.resolve("state/verifier/verifier-market.key.pub").toString());
        // the matcher signs tasks with its key; the verifier and the workers check them with the public half
        e.put("AGORA_MATCHER_KEY_FILE", matcherKey.toString());
        e.put("AGORA_MATCHER_PUBLIC_KEY_FILE", matcherKey.resolveSibling("matcher.key.pub").toString());
        if (svc.core()) { // ingest-api issues proof-of-hardware challenges with it, the matcher checks their answers
            e.put("AGORA_MARKET_CHALLENGE_KEY_FILE", matcherKey.resolveSibling("challenge.key").toString());
        }
        e.putAll(extraEnv);
        e.putAll(env);
        ServiceProcess p = new ServiceProcess(name, svc.mainClass(), List.of(), e, workDir.resolve("logs").resolve(name + ".log"), classpathOf(svc));
        services.put(name, p);
        return p.start();
    }

    public ServiceProcess service(String name) {
        ServiceProcess p = services.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no service " + name + " in " + services.keySet());
        }
        return p;
    }

    /** Waits until ingest-api answers /health, failing with the logs of dead services. */
    public Market awaitApi(Duration timeout) {
        Instant end = Instant.now().plus(timeout);
        while (Instant.now().isBefore(end)) {
            for (ServiceProcess p : services.values()) {
                if (!p.alive()) {
                    throw new IllegalStateException(p.name() + " died:\n" + p.logTail(60));
                }
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(apiUrl() + "/health"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return this;
                }
            } catch (IOException ignored) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            sleep(250);
        }
        throw new IllegalStateException("ingest-api not healthy after " + timeout + ":\n" + service("ingest-api").logTail(60));
    }

    /** Text of every service log tail, for assertion messages. */
    public String diagnostics() {
        List<String> out = new ArrayList<>();
        for (ServiceProcess p : services.values()) {
            out.add("==== " + p.name() + (p.alive() ? "" : " (dead)") + "\n" + p.logTail(25));
        }
        return String.join("\n", out);
    }

    @Override
    public void close() {
        List<ServiceProcess> reversed = new ArrayList<>(services.values());
        java.util.Collections.reverse(reversed);
        reversed.parallelStream().forEach(ServiceProcess::stop);
        stack.kafka().close();
    }

    private static final int FIRST_FREE_PORT = 20_000;
    private static final int FREE_PORTS = 12_000;
    /** Ports handed out, from a random start below the kernel's ephemeral range (32768-60999). */
    private static final java.util.concurrent.atomic.AtomicInteger NEXT_PORT =
            new java.util.concurrent.atomic.AtomicInteger(new java.util.Random().nextInt(FREE_PORTS));

    /**
     * A port no one listens on, for a service that binds it seconds later. Never from the ephemeral
     * range: there an outgoing connection (a Kafka client's, say) can take the port in between, and
     * the service then fails to start ("port already in use").
     */
    public static int freePort() {
        for (int i = 0; i < FREE_PORTS; i++) {
            int port = FIRST_FREE_PORT + Math.floorMod(NEXT_PORT.getAndIncrement(), FREE_PORTS);
            try (ServerSocket s = new ServerSocket(port)) {
                return port;
            } catch (IOException inUse) {
                // the next one
            }
        }
        throw new IllegalStateException("no free port in " + FIRST_FREE_PORT + "-" + (FIRST_FREE_PORT + FREE_PORTS - 1));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
