package io.agora.worker;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The worker's admin port: {@code GET /health} (status, utilisation, tasks, earnings, last
 * error; 503 unless READY or FULL), {@code GET /metrics} and {@code POST /drain}, which starts a
 * drain and answers 202 at once. The shared Launcher's admin server has no way to add routes, so
 * the worker runs this one instead.
 */
public final class AdminServer implements AutoCloseable {
    private final HttpServer server;

    public AdminServer(int port, WorkerAgent agent, Runnable onDrain) {
        try {
            server = HttpServer.create(new InetSocketAddress(port), 0);
        } catch (IOException e) {
            throw new IllegalStateException("cannot open worker admin port " + port, e);
        }
        server.createContext("/health", ex -> {
            Map<String, Object> h = agent.health();
            reply(ex, "UP".equals(h.get("status")) ? 200 : 503, "application/json", json(h));
        });
        server.createContext("/metrics", ex -> reply(ex, 200, "text/plain; version=0.0.4", agent.metrics() + "\n"));
        server.createContext("/drain", ex -> {
            if (!"POST".equals(ex.getRequestMethod())) {
                reply(ex, 405, "application/json", "{\"error\":\"use POST /drain\"}");
                return;
            }
            Thread t = new Thread(onDrain, "worker-drain");
            t.start();
            reply(ex, 202, "application/json", "{\"status\":\"DRAINING\",\"workerId\":\"" + agent.workerId() + "\"}");
        });
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    static String json(Map<String, Object> m) {
        return m.entrySet().stream()
                .map(e -> "\"" + e.getKey() + "\":" + value(e.getValue()))
                .collect(Collectors.joining(",", "{", "}"));
    }

    private static String value(Object v) {
        if (v instanceof Number || v instanceof Boolean) {
            return v.toString();
        }
        return "\"" + String.valueOf(v).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    private static void reply(HttpExchange ex, int code, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", type);
        ex.sendResponseHeaders(code, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
