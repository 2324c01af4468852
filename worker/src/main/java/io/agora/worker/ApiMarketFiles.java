package io.agora.worker;

import io.agora.artifacts.ArtifactStore;
import io.agora.artifacts.DiskArtifactStore;
import io.agora.schemas.Identity;
import io.agora.schemas.WorkerRequests;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The market's files over ingest-api's HTTP API, each request signed with the worker's key
 * ({@link WorkerRequests}): {@code GET /api/v1/files/<sha256>/content} for a job's inputs, through
 * a local content-addressed cache ({@code <stateDir>/artifact-cache}: an input two tasks share is
 * fetched once; bounded by {@link InputCache}, least recently used removed first), and
 * {@code POST /api/v1/files} for what a replica wrote. Bytes are checked against their name each
 * time a job is given them, from the API or from the cache: a cached copy that no longer matches
 * (a disk fault, a hand) is removed and fetched again.
 */
public final class ApiMarketFiles implements MarketFiles {
    /** The largest input a worker takes (the API's own upload limit is usually far lower). */
    public static final long MAX_INPUT_BYTES = 1L << 30;
    private final URI api;
    private final Identity identity;
    private final DiskArtifactStore cache;
    private final long maxBytes;
    private final InputCache held;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public ApiMarketFiles(URI api, Identity identity, Path cacheDir, long maxBytes, long cacheBytes) {
        this.api = api;
        this.identity = identity;
        this.maxBytes = maxBytes;
        this.held = new InputCache(cacheBytes);
        try {
            this.cache = new DiskArtifactStore(cacheDir);
            for (ArtifactStore.Artifact a : cache.list()) { // what an earlier run left, oldest first
                evict(held.used(a.sha256(), a.size()));
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("artifact cache " + cacheDir + " cannot be opened", e);
        }
    }

    @Override
    public void fetch(String sha256, Path target) throws IOException {
        Optional<Long> cached = cache.size(sha256);
        if (cached.isPresent()) {
            try {
                copy(sha256, cached.get(), target);
                return;
            } catch (IOException e) {
                // evicted meanwhile, or altered on disk (the hash check failed): fetch it again
                cache.delete(sha256);
                held.forget(sha256);
            }
        }
        copy(sha256, download(sha256), target);
    }

    /** Fetches the artifact into the cache, checked against its name; its size. */
    private long download(String sha256) throws IOException {
        String path = "/api/v1/files/" + sha256 + "/content";
        HttpResponse<InputStream> r = send(HttpRequest.newBuilder(api.resolve(path)).GET()
                .header("Authorization", WorkerRequests.authorization(identity.privateKey(), "GET", path,
                        System.currentTimeMillis())), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            if (r.statusCode() != 200) {
                throw new IOException("GET " + path + ": HTTP " + r.statusCode() + ": "
                        + new String(in.readNBytes(1000), StandardCharsets.UTF_8));
            }
            ArtifactStore.Artifact a = cache.put(in, maxBytes);
            if (!a.sha256().equals(sha256)) {
                cache.delete(a.sha256());
                throw new IOException("GET " + path + " answered bytes that hash to " + a.sha256());
            }
            return a.size();
        }
    }

    /** Copies the cached artifact to the task, checking its hash on the way; makes it the most recently used. */
    private void copy(String sha256, long size, Path target) throws IOException {
        evict(held.used(sha256, size));
        try (InputStream in = cache.open(sha256).orElseThrow(() -> new IOException("artifact " + sha256 + " left the cache"))) {
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private void evict(List<String> inputs) throws IOException {
        for (String sha256 : inputs) {
            cache.delete(sha256);
        }
    }

    /** Bytes the cache holds (as this process counts them). */
    long cachedBytes() {
        return held.heldBytes();
    }

    @Override
    public void upload(Path file, String sha256) throws IOException {
        String path = "/api/v1/files";
        HttpResponse<String> r = send(HttpRequest.newBuilder(api.resolve(path))
                .POST(HttpRequest.BodyPublishers.ofFile(file))
                .header("Content-Type", "application/octet-stream")
                .header("Authorization", WorkerRequests.authorization(identity.privateKey(), "POST", path,
                        System.currentTimeMillis())), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200 && r.statusCode() != 201) {
            throw new IOException("POST " + path + ": HTTP " + r.statusCode() + ": " + r.body());
        }
        if (!r.body().contains("\"" + sha256 + "\"")) {
            throw new IOException("POST " + path + " kept the file under another name than " + sha256 + ": " + r.body());
        }
    }

    private <T> HttpResponse<T> send(HttpRequest.Builder b, HttpResponse.BodyHandler<T> handler) throws IOException {
        try {
            return http.send(b.timeout(Duration.ofMinutes(5)).build(), handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted talking to " + api, e);
        }
    }
}
