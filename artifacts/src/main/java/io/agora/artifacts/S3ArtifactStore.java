package io.agora.artifacts;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Artifacts as objects {@code <prefix>sha256/<sha256>} of one bucket of an S3-compatible service
 * (AWS S3, MinIO, Ceph RGW, ...), addressed path-style ({@code <endpoint>/<bucket>/<key>}) and
 * signed with SigV4. An upload is staged to a local file first (its name is its hash, known only
 * at its end), skipped when the object exists, and sent with its SHA-256 as
 * {@code x-amz-content-sha256}, so the service itself refuses bytes altered on the way.
 */
public final class S3ArtifactStore implements ArtifactStore {
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final URI endpoint;
    private final String bucket;
    private final String prefix;
    private final SigV4 signer;
    private final Path staging;
    private final HttpClient http;
    private final Clock clock;

    public S3ArtifactStore(URI endpoint, String bucket, String prefix, String region, String accessKey,
                           String secretKey, Path staging, Clock clock) {
        this.endpoint = endpoint;
        this.bucket = bucket;
        this.prefix = prefix == null ? "" : prefix;
        this.signer = new SigV4(accessKey, secretKey, region);
        this.staging = staging;
        this.clock = clock;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    @Override
    public Artifact put(InputStream in, long maxBytes) throws IOException {
        try (Staged staged = Staged.copy(in, maxBytes, staging)) {
            if (size(staged.sha256).isEmpty()) {
                HttpResponse<String> r = send(request("PUT", staged.sha256, staged.sha256)
                        .PUT(HttpRequest.BodyPublishers.ofFile(staged.file)), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() / 100 != 2) {
                    throw failure("PUT", staged.sha256, r.statusCode(), r.body());
                }
            }
            return staged.artifact();
        }
    }

    @Override
    public Optional<InputStream> open(String sha256) throws IOException {
        HttpResponse<InputStream> r = send(request("GET", Sha256.require(sha256), Sha256.hex(new byte[0])).GET(),
                HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() == 404) {
            r.body().close();
            return Optional.empty();
        }
        if (r.statusCode() != 200) {
            String body;
            try (InputStream b = r.body()) {
                body = new String(b.readNBytes(2000), StandardCharsets.UTF_8);
            }
            throw failure("GET", sha256, r.statusCode(), body);
        }
        return Optional.of(new VerifiedInputStream(r.body(), sha256));
    }

    @Override
    public Optional<Long> size(String sha256) throws IOException {
        HttpResponse<Void> r = send(request("HEAD", Sha256.require(sha256), Sha256.hex(new byte[0]))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 404) {
            return Optional.empty();
        }
        if (r.statusCode() != 200) {
            throw failure("HEAD", sha256, r.statusCode(), "");
        }
        return r.headers().firstValueAsLong("content-length").stream().boxed().findFirst();
    }

    @Override
    public boolean delete(String sha256) throws IOException {
        boolean held = size(sha256).isPresent(); // S3 answers 204 to a DELETE whether the object was there or not
        HttpResponse<String> r = send(request("DELETE", Sha256.require(sha256), Sha256.hex(new byte[0]))
                .DELETE(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 204 && r.statusCode() != 200 && r.statusCode() != 404) {
            throw failure("DELETE", sha256, r.statusCode(), r.body());
        }
        return held;
    }

    @Override
    public String describe() {
        return "s3 " + endpoint + "/" + bucket + "/" + prefix;
    }

    private HttpRequest.Builder request(String method, String sha256, String payloadSha256) {
        String path = SigV4.encodePath(basePath() + "/" + bucket + "/" + prefix + "sha256/" + sha256);
        URI uri = endpoint.resolve(path);
        String amzDate = AMZ_DATE.format(clock.instant());
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("host", SigV4.host(uri));
        headers.put("x-amz-content-sha256", payloadSha256);
        headers.put("x-amz-date", amzDate);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(TIMEOUT)
                .header("x-amz-content-sha256", payloadSha256)
                .header("x-amz-date", amzDate)
                .header("Authorization", signer.authorization(method, path, headers, payloadSha256, amzDate));
        return b;
    }

    private String basePath() {
        String p = endpoint.getRawPath();
        return p == null || p.equals("/") ? "" : p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }

    private <T> HttpResponse<T> send(HttpRequest.Builder b, HttpResponse.BodyHandler<T> handler) throws IOException {
        try {
            return http.send(b.build(), handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted talking to " + endpoint, e);
        }
    }

    private IOException failure(String method, String sha256, int status, String body) {
        return new IOException(method + " artifact " + sha256 + " at " + describe() + ": HTTP " + status
                + (body == null || body.isBlank() ? "" : ": " + Sha256.abbreviate(body.strip())));
    }
}
