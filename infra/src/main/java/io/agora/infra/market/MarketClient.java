package io.agora.infra.market;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** A client of ingest-api's HTTP API, as a user of the market calls it. */
public final class MarketClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String api;

    public MarketClient(String api) {
        this.api = api;
    }

    /** An HTTP answer: status code and parsed JSON body (or a text node). */
    public record Answer(int status, JsonNode body, Map<String, java.util.List<String>> headers) {
        public String text(String field) {
            JsonNode n = body.get(field);
            return n == null || n.isNull() ? null : n.asText();
        }
    }

    public String issueKey(String adminToken, String clientId) {
        Answer a = send("POST", "/api/v1/admin/clients/" + clientId + "/keys", adminToken, "{}", Map.of());
        if (a.status() / 100 != 2) {
            throw new IllegalStateException("cannot issue key: " + a);
        }
        return a.text("apiKey");
    }

    public Answer deposit(String adminToken, String clientId, long micros) {
        return send("POST", "/api/v1/admin/clients/" + clientId + "/deposits", adminToken,
                "{\"amountMicros\":" + micros + "}", Map.of());
    }

    public Answer submit(String apiKey, String jobJson) {
        return send("POST", "/api/v1/jobs", apiKey, jobJson, Map.of());
    }

    public Answer submit(String apiKey, String jobJson, String idempotencyKey) {
        return send("POST", "/api/v1/jobs", apiKey, jobJson, Map.of("Idempotency-Key", idempotencyKey));
    }

    public Answer job(String apiKey, String jobId) {
        return send("GET", "/api/v1/jobs/" + jobId, apiKey, null, Map.of());
    }

    public Answer cancel(String apiKey, String jobId) {
        return send("DELETE", "/api/v1/jobs/" + jobId, apiKey, null, Map.of());
    }

    public Answer account(String apiKey, String clientId) {
        return send("GET", "/api/v1/accounts/" + clientId, apiKey, null, Map.of());
    }

    public Answer get(String apiKey, String path) {
        return send("GET", path, apiKey, null, Map.of());
    }

    /** {@code POST /api/v1/files}: uploads {@code bytes} as the client; the answer names the file by its SHA-256. */
    public Answer upload(String apiKey, byte[] bytes) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/files"))
                    .timeout(Duration.ofSeconds(20)).header("Authorization", "Bearer " + apiKey)
                    .header("Content-Type", "application/octet-stream")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), JSON.readTree(r.body()), r.headers().map());
        } catch (IOException e) {
            throw new IllegalStateException("POST /api/v1/files failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The bytes {@code GET path} answers (a job's file), or null unless 200. */
    public byte[] bytes(String apiKey, String path) {
        try {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(20))
                    .header("Authorization", "Bearer " + apiKey).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException e) {
            throw new IllegalStateException("GET " + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public Answer send(String method, String path, String bearer, String body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(20));
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        headers.forEach(b::header);
        if (body != null) {
            b.header("Content-Type", "application/json");
            b.method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode node;
            try {
                node = r.body() == null || r.body().isBlank() ? JSON.nullNode() : JSON.readTree(r.body());
            } catch (IOException notJson) {
                node = JSON.getNodeFactory().textNode(r.body());
            }
            return new Answer(r.statusCode(), node, r.headers().map());
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
