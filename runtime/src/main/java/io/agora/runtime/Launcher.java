package io.agora.runtime;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.Traces;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The one start-up path of the plain Java apps (matcher, verifier, worker): config loading,
 * span export ({@link Traces#configure}), uncaught-exception handler, shutdown hook, and a small admin HTTP server with
 * {@code /health}, {@code /metrics} (the service's {@link Service#meters() meters} with the
 * JVM's, Prometheus text format) and the service's {@link Service#adminActions() actions}
 * on {@code agora.<app>.admin.port} (0 = none), open before the service starts. It listens on
 * {@code agora.<app>.admin.bind} (default every interface; the worker's default is 127.0.0.1),
 * and when the service has an {@link Service#adminToken() admin token} its actions answer 401
 * without {@code Authorization: Bearer <token>}; {@code /health} and {@code /metrics} stay open.
 */
public final class Launcher {
    private static final Logger log = LoggerFactory.getLogger(Launcher.class);

    private Launcher() {
    }

    public static void run(String app, Map<String, String> defaults, Function<AgoraConfig, Service> factory) {
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> log.error("uncaught exception in {}", t.getName(), e));
        AgoraConfig cfg = AgoraConfig.load(defaults);
        Traces.configure(app, cfg);
        Service service = factory.apply(cfg);
        PrometheusMeterRegistry meters = meters(service);
        Meters.bindJvm(meters);
        CountDownLatch stopped = new CountDownLatch(1);
        HttpServer admin = startAdmin(app, cfg.get("agora." + app + ".admin.bind", "0.0.0.0"),
                cfg.getInt("agora." + app + ".admin.port", 0), service, meters);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("{} stopping", app);
            try {
                service.close();
            } finally {
                if (admin != null) {
                    admin.stop(0);
                }
                stopped.countDown();
            }
        }, app + "-shutdown"));
        service.start();
        log.info("{} started", app);
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The admin server of a service on {@code port}, or null when the port is 0 (tests start it without {@link #run}). */
    public static HttpServer startAdmin(String app, int port, Service service) {
        return startAdmin(app, "0.0.0.0", port, service);
    }

    /** The admin server of a service on {@code bind:port}, or null when the port is 0. */
    public static HttpServer startAdmin(String app, String bind, int port, Service service) {
        return startAdmin(app, bind, port, service, meters(service));
    }

    private static PrometheusMeterRegistry meters(Service service) {
        return service.meters() != null ? service.meters() : Meters.registry();
    }

    private static HttpServer startAdmin(String app, String bind, int port, Service service,
                                         PrometheusMeterRegistry meters) {
        if (port <= 0) {
            return null;
        }
        // what /health says, as a number an alert can watch: 1 UP, 0 anything else
        Gauge.builder("agora.service.up", service, s -> "UP".equals(s.health().get("status")) ? 1 : 0)
                .description("1 while /health answers UP").register(meters);
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(bind, port), 0);
            server.createContext("/health", ex -> {
                Map<String, Object> h = service.health();
                boolean up = "UP".equals(h.get("status"));
                reply(ex, up ? 200 : 503, "application/json", healthJson(app, h));
            });
            server.createContext("/metrics", ex -> reply(ex, 200, "text/plain; version=0.0.4; charset=utf-8", meters.scrape()));
            service.adminActions().forEach((name, action) -> server.createContext("/" + name, ex -> {
                if (!"POST".equals(ex.getRequestMethod())) {
                    reply(ex, 405, "application/json", "{\"error\":\"use POST /" + name + "\"}");
                    return;
                }
                if (!authorized(service.adminToken(), ex.getRequestHeaders().getFirst("Authorization"))) {
                    reply(ex, 401, "application/json", "{\"error\":\"admin token required: send Authorization: Bearer"
                            + " <token> (agora." + app + ".admin.token, or the admin.token file in the state dir)\"}");
                    return;
                }
                reply(ex, 202, "application/json", action.get());
            }));
            server.start();
            return server;
        } catch (IOException e) {
            throw new IllegalStateException("cannot open admin port " + port, e);
        }
    }

    /**
     * The {@code /health} body: {@code app} first (the service's own name for itself, else the
     * launcher's), then the service's other entries; each key once.
     */
    static String healthJson(String app, Map<String, Object> health) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("app", health.getOrDefault("app", app));
        health.forEach(body::putIfAbsent);
        return body.entrySet().stream()
                .map(e -> json(e.getKey()) + ":" + json(e.getValue()))
                .collect(Collectors.joining(",", "{", "}"));
    }

    /** True when the service has no admin token, or the header carries it (compared in constant time). */
    static boolean authorized(java.util.Optional<String> token, String authorization) {
        if (token.isEmpty()) {
            return true;
        }
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] presented = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        return java.security.MessageDigest.isEqual(presented, token.get().getBytes(StandardCharsets.UTF_8));
    }

    private static String json(Object v) {
        if (v instanceof Number || v instanceof Boolean) {
            return v.toString();
        }
        StringBuilder out = new StringBuilder("\"");
        for (char c : String.valueOf(v).toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    private static void reply(com.sun.net.httpserver.HttpExchange ex, int code, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", type);
        ex.sendResponseHeaders(code, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }
}
