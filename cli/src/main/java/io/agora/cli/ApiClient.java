package io.agora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A thin HTTP client of ingest-api; errors come back as {@link ApiError} carrying the API's message. */
public final class ApiClient {
    static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final String token;

    public ApiClient(String base, String token) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        this.token = token;
    }

    /** A value as one path segment or query value: worker ids are base64 and may hold '/' and '+'. */
    public static String segment(String value) {
        return java.net.URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    public JsonNode get(String path) throws IOException, InterruptedException {
        return send("GET", path, null, null);
    }

    public JsonNode send(String method, String path, Object body, String idempotencyKey)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = request(path).timeout(Duration.ofSeconds(30));
        if (body != null) {
            b.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        if (idempotencyKey != null) {
            b.header("Idempotency-Key", idempotencyKey);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode node = r.body() == null || r.body().isBlank() ? JSON.nullNode() : parse(r.body());
        if (r.statusCode() >= 400) {
            throw new ApiError(r.statusCode(), node, r.headers().firstValue("Retry-After").orElse(null));
        }
        return node;
    }

    /** The body of a GET as text, for answers that are not JSON (a job's output). */
    public String text(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request(path).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 400) {
            throw new ApiError(r.statusCode(), parse(r.body() == null ? "" : r.body()), r.headers().firstValue("Retry-After").orElse(null));
        }
        return r.body() == null ? "" : r.body();
    }

    /** Uploads a file ({@code POST /api/v1/files}); the API's answer: sha256, size, uploadedAt. */
    public JsonNode upload(java.nio.file.Path file) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request("/api/v1/files").timeout(Duration.ofMinutes(10))
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofFile(file)).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode node = r.body() == null || r.body().isBlank() ? JSON.nullNode() : parse(r.body());
        if (r.statusCode() >= 400) {
            throw new ApiError(r.statusCode(), node, r.headers().firstValue("Retry-After").orElse(null));
        }
        return node;
    }

    /** The body of a GET as a stream (a file's bytes); the caller closes it. */
    public java.io.InputStream open(String path) throws IOException, InterruptedException {
        HttpResponse<java.io.InputStream> r = http.send(request(path).timeout(Duration.ofMinutes(10)).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() >= 400) {
            String body;
            try (java.io.InputStream in = r.body()) {
                body = new String(in.readNBytes(64 * 1024), java.nio.charset.StandardCharsets.UTF_8);
            }
            throw new ApiError(r.statusCode(), parse(body), r.headers().firstValue("Retry-After").orElse(null));
        }
        return r.body();
    }

    /** Reads the server-sent events of a path until {@code stop} accepts one; returns that event's data. */
    public JsonNode stream(String path, Predicate<JsonNode> stop, java.util.function.Consumer<JsonNode> each)
            throws IOException, InterruptedException {
        return stream(path, stop, each, null);
    }

    /**
     * As {@link #stream(String, Predicate, java.util.function.Consumer)}, but gives up after {@code window}
     * (when not null): the events that came by then are the story so far. The lines are read on a
     * daemon thread because a blocked read of the body cannot be interrupted.
     */
    public JsonNode stream(String path, Predicate<JsonNode> stop, java.util.function.Consumer<JsonNode> each, Duration window)
            throws IOException, InterruptedException {
        HttpRequest req = request(path).header("Accept", "text/event-stream").GET().build();
        HttpResponse<java.io.InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() >= 400) {
            String body = new String(r.body().readAllBytes(), StandardCharsets.UTF_8);
            throw new ApiError(r.statusCode(), parse(body), null);
        }
        java.io.InputStream body = r.body();
        BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
        BlockingQueue<Optional<String>> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(Optional.of(line));
                }
            } catch (IOException e) {
                // the stream broke off: what came so far is all there is
            }
            lines.add(Optional.empty());
        }, "agora-sse");
        reader.setDaemon(true);
        reader.start();
        long deadline = window == null ? Long.MAX_VALUE : System.nanoTime() + window.toNanos();
        JsonNode last = null;
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                Optional<String> line = window == null ? lines.take() : lines.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
                if (line == null || line.isEmpty()) {
                    return last;
                }
                if (line.get().startsWith("data:")) {
                    last = parse(line.get().substring(5).trim());
                    each.accept(last);
                    if (stop.test(last)) {
                        return last;
                    }
                }
            }
        } finally {
            reader.interrupt();
            try {
                body.close(); // the stream, not the reader, whose lock the reading thread may hold
            } catch (IOException ignored) {
                // closing only frees the connection early
            }
        }
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
        if (token != null && !token.isBlank()) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private static JsonNode parse(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            return JSON.getNodeFactory().textNode(s);
        }
    }

    /** An error answer of the API. */
    public static final class ApiError extends IOException {
        final int status;
        final JsonNode body;
        final String retryAfter;

        ApiError(int status, JsonNode body, String retryAfter) {
            super(describe(status, body, retryAfter));
            this.status = status;
            this.body = body;
            this.retryAfter = retryAfter;
        }

        private static String describe(int status, JsonNode body, String retryAfter) {
            StringBuilder sb = new StringBuilder("HTTP " + status + ": " + body.path("detail").asText(body.toString()));
            for (JsonNode p : body.path("problems")) {
                if (p.hasNonNull("field")) {
                    sb.append("\n  ").append(p.path("field").asText()).append(": ").append(p.path("message").asText());
                }
            }
            if (body.has("details") && !body.get("details").isNull()) {
                sb.append("\n  ").append(body.get("details"));
            }
            if (retryAfter != null) {
                sb.append("\n  retry after ").append(retryAfter).append(" s");
            }
            return sb.toString();
        }
    }
}
