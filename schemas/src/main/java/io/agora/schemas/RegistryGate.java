package io.agora.schemas;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;

/**
 * The schema registry's door: Apicurio 2.6 authenticates only through an OIDC server (Keycloak),
 * so the registry listens on a loopback/internal port and this gate stands in front of it. Reads
 * ({@code GET}, {@code HEAD}) pass for anyone: schemas are no secret and every deserializer and
 * every worker must resolve them. Every other method writes (registering a schema, changing a
 * rule, deleting), and passes only with HTTP Basic credentials of a writer: a principal named in
 * {@code agora.registry.gate.writers} (default {@code admin}) whose password is its Kafka password
 * ({@code <agora.registry.gate.secrets>/<principal>}, the files {@code infra/bin/agora} makes; a mounted Secret
 * in the manifests), so one
 * credential per principal serves the broker and the registry. Anything else: 401 without
 * credentials, 403 with a non-writer's or a wrong password. Each refusal is logged with its reason.
 *
 * <p>Settings ({@code AGORA_REGISTRY_GATE_*}): {@code port}, {@code upstream} (the registry's base URL,
 * e.g. {@code http://localhost:18082}), {@code secrets} (folder of passwords), {@code writers} (csv).
 */
public final class RegistryGate implements AutoCloseable {
    private static final Set<String> READS = Set.of("GET", "HEAD");
    /** Headers not passed on: hop-by-hop ones, those the HTTP client sets itself, and the credentials. */
    private static final Set<String> NOT_FORWARDED = Set.of("connection", "content-length", "expect", "host", "upgrade",
            "transfer-encoding", "keep-alive", "te", "trailer", "proxy-authorization", "authorization", "date");
    private final HttpServer server;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI upstream;
    private final Path secrets;
    private final Set<String> writers;

    private RegistryGate(int port, URI upstream, Path secrets, Set<String> writers) throws IOException {
        this.upstream = upstream;
        this.secrets = secrets;
        this.writers = writers;
        this.server = HttpServer.create(new InetSocketAddress(port), 64);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(8));
    }

    /** Starts a gate on {@code port} (0: any free port) in front of {@code upstream}. */
    public static RegistryGate start(int port, URI upstream, Path secrets, Set<String> writers) throws IOException {
        RegistryGate g = new RegistryGate(port, upstream, secrets, writers);
        g.server.start();
        return g;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Why a request may not pass, empty when it may. */
    Optional<Refusal> refusal(String method, String authorization) {
        if (READS.contains(method)) {
            return Optional.empty();
        }
        if (authorization == null || !authorization.startsWith("Basic ")) {
            return Optional.of(new Refusal(401, method + " writes to the registry: credentials of a writer needed"));
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return Optional.of(new Refusal(401, "malformed Basic credentials"));
        }
        int colon = decoded.indexOf(':');
        String user = colon < 0 ? decoded : decoded.substring(0, colon);
        String password = colon < 0 ? "" : decoded.substring(colon + 1);
        if (!writers.contains(user)) {
            return Optional.of(new Refusal(403, user + " may read the registry, not write it"));
        }
        if (!passwordMatches(user, password)) {
            return Optional.of(new Refusal(403, "wrong password for " + user));
        }
        return Optional.empty();
    }

    record Refusal(int status, String reason) {
    }

    private boolean passwordMatches(String user, String password) {
        if (user.isEmpty() || user.contains("/") || user.contains("..")) {
            return false;
        }
        try {
            byte[] expected = Files.readString(secrets.resolve(user), StandardCharsets.UTF_8).strip().getBytes(StandardCharsets.UTF_8);
            return MessageDigest.isEqual(expected, password.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            return false;
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            Optional<Refusal> refused = refusal(method, ex.getRequestHeaders().getFirst("Authorization"));
            if (refused.isPresent()) {
                org.slf4j.LoggerFactory.getLogger(RegistryGate.class).warn("refused {} {}: {}", method,
                        ex.getRequestURI(), refused.get().reason());
                byte[] body = ("{\"error_code\":" + refused.get().status() + ",\"message\":\""
                        + refused.get().reason().replace("\"", "'") + "\"}").getBytes(StandardCharsets.UTF_8);
                if (refused.get().status() == 401) {
                    ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"agora-registry\"");
                }
                ex.getResponseHeaders().add("Content-Type", "application/json");
                ex.sendResponseHeaders(refused.get().status(), body.length);
                ex.getResponseBody().write(body);
                return;
            }
            byte[] in;
            try (InputStream body = ex.getRequestBody()) {
                in = body.readAllBytes();
            }
            URI target = upstream.resolve(ex.getRequestURI().getRawPath()
                    + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery()));
            HttpRequest.Builder req = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(30))
                    .method(method, in.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(in));
            // Apicurio reads its arguments from headers too (X-Registry-ArtifactId, X-Registry-Version...)
            ex.getRequestHeaders().forEach((h, values) -> {
                if (!NOT_FORWARDED.contains(h.toLowerCase(java.util.Locale.ROOT))) {
                    values.forEach(v -> req.header(h, v));
                }
            });
            HttpResponse<byte[]> resp;
            try {
                resp = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                byte[] body = "{\"error_code\":502,\"message\":\"registry unreachable\"}".getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(502, body.length);
                ex.getResponseBody().write(body);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ex.sendResponseHeaders(503, -1);
                return;
            }
            resp.headers().map().forEach((h, values) -> {
                if (!h.startsWith(":") && !NOT_FORWARDED.contains(h.toLowerCase(java.util.Locale.ROOT))) {
                    values.forEach(v -> ex.getResponseHeaders().add(h, v));
                }
            });
            byte[] out = resp.body();
            boolean empty = out.length == 0 || method.equals("HEAD");
            ex.sendResponseHeaders(resp.statusCode(), empty ? -1 : out.length);
            if (!empty) {
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(out);
                }
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }

    public static void main(String[] args) throws Exception {
        AgoraConfig cfg = AgoraConfig.load(Map.of());
        Set<String> writers = Set.copyOf(Arrays.stream(cfg.get("agora.registry.gate.writers", "admin").split(","))
                .map(String::strip).filter(s -> !s.isEmpty()).toList());
        RegistryGate g = start(Integer.parseInt(cfg.get("agora.registry.gate.port", "8081")),
                URI.create(cfg.get("agora.registry.gate.upstream", "http://localhost:8082")),
                Path.of(cfg.get("agora.registry.gate.secrets", "secrets/kafka")), writers);
        org.slf4j.LoggerFactory.getLogger(RegistryGate.class).info("registry gate on port {} in front of {}: writers {}",
                g.port(), cfg.get("agora.registry.gate.upstream", ""), writers);
        Runtime.getRuntime().addShutdownHook(new Thread(g::close, "registry-gate-stop"));
        Thread.currentThread().join();
    }
}
