package io.agora.worker;

import com.sun.net.httpserver.HttpServer;
import io.agora.artifacts.Sha256;
import io.agora.schemas.Identity;
import io.agora.schemas.WorkerRequests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The worker's file client against a stand-in of ingest-api's two file endpoints (JDK HTTP server)
 * that checks every request's worker signature as ingest-api does ({@link WorkerRequests}).
 */
class ApiMarketFilesTest {
    @TempDir
    Path dir;
    private HttpServer server;
    private final Identity identity = Identity.generate();
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();
    private final Map<String, byte[]> uploaded = new ConcurrentHashMap<>();
    private final List<String> seen = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            seen.add(ex.getRequestMethod() + " " + path);
            int status;
            byte[] body;
            try {
                String worker = WorkerRequests.verify(ex.getRequestHeaders().getFirst("Authorization"),
                        ex.getRequestMethod(), path, System.currentTimeMillis());
                assertThat(worker).isEqualTo(identity.workerId());
                if (ex.getRequestMethod().equals("POST")) {
                    byte[] data = ex.getRequestBody().readAllBytes();
                    uploaded.put(Sha256.hex(data), data);
                    status = 201;
                    body = ("{\"sha256\":\"" + Sha256.hex(data) + "\",\"size\":" + data.length + "}").getBytes(StandardCharsets.UTF_8);
                } else {
                    String sha = path.split("/")[4];
                    byte[] data = served.get(sha);
                    status = data == null ? 404 : 200;
                    body = data == null ? "{\"error\":\"file not found\"}".getBytes(StandardCharsets.UTF_8) : data;
                }
            } catch (IllegalArgumentException e) {
                status = 401;
                body = e.getMessage().getBytes(StandardCharsets.UTF_8);
            }
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private ApiMarketFiles files() {
        return files(1 << 20);
    }

    private ApiMarketFiles files(long cacheBytes) {
        return new ApiMarketFiles(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), identity,
                dir.resolve("cache"), 1024, cacheBytes);
    }

    /** Serves a 10-byte input named {@code name}; its SHA-256. */
    private String input(String name) {
        byte[] data = String.format("%-10s", name).getBytes(StandardCharsets.UTF_8);
        served.put(Sha256.hex(data), data);
        return Sha256.hex(data);
    }

    private long gets(String sha) {
        return seen.stream().filter(s -> s.equals("GET /api/v1/files/" + sha + "/content")).count();
    }

    @Test
    void theCacheKeepsAtMostItsCapGivingBackTheLeastRecentlyUsed() throws IOException {
        String a = input("a");
        String b = input("b");
        String c = input("c");
        ApiMarketFiles files = files(25); // room for two 10-byte inputs
        files.fetch(a, dir.resolve("1"));
        files.fetch(b, dir.resolve("2"));
        files.fetch(a, dir.resolve("3")); // a is now the most recently used
        files.fetch(c, dir.resolve("4")); // b goes
        assertThat(files.cachedBytes()).isEqualTo(20);
        files.fetch(a, dir.resolve("5"));
        assertThat(gets(a)).as("a stayed cached").isEqualTo(1);
        files.fetch(b, dir.resolve("6"));
        assertThat(gets(b)).as("b was evicted, so fetched again").isEqualTo(2);
        assertThat(dir.resolve("6")).hasContent(String.format("%-10s", "b"));
        try (var held = Files.walk(dir.resolve("cache/sha256"))) {
            assertThat(held.filter(Files::isRegularFile).count()).isEqualTo(2);
        }
    }

    @Test
    void aCachedCopyThatNoLongerMatchesItsHashIsFetchedAgain() throws IOException {
        String a = input("a");
        ApiMarketFiles files = files();
        files.fetch(a, dir.resolve("1"));
        Path cached = dir.resolve("cache/sha256/" + a.substring(0, 2) + "/" + a);
        Files.writeString(cached, "tampered!!");
        files.fetch(a, dir.resolve("2"));
        assertThat(dir.resolve("2")).hasContent(String.format("%-10s", "a"));
        assertThat(gets(a)).isEqualTo(2);
        assertThat(cached).hasContent(String.format("%-10s", "a"));
    }

    @Test
    void aRestartCountsWhatTheCacheHoldsAndTrimsItToTheCap() throws IOException {
        String a = input("a");
        String b = input("b");
        ApiMarketFiles first = files();
        first.fetch(a, dir.resolve("1"));
        assertThat(dir.resolve("cache/sha256/" + a.substring(0, 2) + "/" + a).toFile().setLastModified(1_000_000L)).isTrue();
        first.fetch(b, dir.resolve("2"));
        ApiMarketFiles restarted = files(15); // room for one: the older, a, goes
        assertThat(restarted.cachedBytes()).isEqualTo(10);
        restarted.fetch(b, dir.resolve("3"));
        assertThat(gets(b)).isEqualTo(1);
        assertThat(dir.resolve("cache/sha256/" + a.substring(0, 2) + "/" + a)).doesNotExist();
    }

    @Test
    void anInputIsFetchedOnceCheckedAndCopied() throws IOException {
        byte[] data = "1,2,3\n".getBytes(StandardCharsets.UTF_8);
        String sha = Sha256.hex(data);
        served.put(sha, data);
        ApiMarketFiles files = files();
        files.fetch(sha, dir.resolve("a"));
        files.fetch(sha, dir.resolve("b"));
        assertThat(Files.readAllBytes(dir.resolve("a"))).isEqualTo(data);
        assertThat(Files.readAllBytes(dir.resolve("b"))).isEqualTo(data);
        assertThat(seen).as("the second task's copy comes from the cache").containsExactly("GET /api/v1/files/" + sha + "/content");
    }

    @Test
    void bytesThatDoNotHashToTheNameAreRefusedAndNotCached() throws IOException {
        String sha = Sha256.hex("the real bytes".getBytes(StandardCharsets.UTF_8));
        served.put(sha, "other bytes".getBytes(StandardCharsets.UTF_8));
        ApiMarketFiles files = files();
        assertThatThrownBy(() -> files.fetch(sha, dir.resolve("a"))).hasMessageContaining("hash to");
        assertThat(dir.resolve("a")).doesNotExist();
        String absent = Sha256.hex("nothing".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> files.fetch(absent, dir.resolve("b"))).hasMessageContaining("HTTP 404");
        served.put(sha, "the real bytes".getBytes(StandardCharsets.UTF_8));
        files.fetch(sha, dir.resolve("a"));
        assertThat(dir.resolve("a")).hasContent("the real bytes");
    }

    @Test
    void anOutputIsUploadedSignedAndKeptUnderItsHash() throws IOException {
        Path out = dir.resolve("out.txt");
        Files.writeString(out, "result");
        String sha = Sha256.hex("result".getBytes(StandardCharsets.UTF_8));
        files().upload(out, sha);
        assertThat(uploaded).containsKey(sha);
        String wrong = Sha256.hex("else".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> files().upload(out, wrong)).hasMessageContaining("another name");
    }
}
