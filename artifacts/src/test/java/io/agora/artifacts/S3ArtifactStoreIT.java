package io.agora.artifacts;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The S3 backend against a real S3-compatible HTTP server on this machine: moto's server
 * ({@code moto_server}, Python package {@code moto[server]}), on a free port. Skipped, saying so,
 * where moto is not installed; set {@code AGORA_TEST_S3_ENDPOINT} (with
 * {@code AGORA_TEST_S3_ACCESS_KEY}/{@code _SECRET_KEY} and an existing bucket {@code AGORA_TEST_S3_BUCKET})
 * to run it against another service (MinIO, AWS).
 */
class S3ArtifactStoreIT {
    private static Process moto;
    private static URI endpoint;
    private static String bucket = "agora-artifacts";
    private static String access = "test";
    private static String secret = "test";

    @TempDir
    Path staging;

    @BeforeAll
    static void server() throws Exception {
        String given = System.getenv("AGORA_TEST_S3_ENDPOINT");
        if (given != null) {
            endpoint = URI.create(given.endsWith("/") ? given : given + "/");
            bucket = System.getenv().getOrDefault("AGORA_TEST_S3_BUCKET", bucket);
            access = System.getenv("AGORA_TEST_S3_ACCESS_KEY");
            secret = System.getenv("AGORA_TEST_S3_SECRET_KEY");
            return;
        }
        Path motoServer = Path.of(System.getProperty("user.home"), ".pyenv/shims/moto_server");
        String exe = onPath("moto_server") ? "moto_server" : Files.isExecutable(motoServer) ? motoServer.toString() : null;
        Assumptions.assumeTrue(exe != null, "moto_server is not installed (pip install 'moto[server]'): S3 backend not run");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        moto = new ProcessBuilder(exe, "-H", "127.0.0.1", "-p", Integer.toString(port))
                .redirectErrorStream(true).redirectOutput(Path.of("target", "moto.log").toFile()).start();
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!listening(port)) {
            assertThat(moto.isAlive()).as("moto_server running (target/moto.log)").isTrue();
            assertThat(System.nanoTime()).as("moto_server listening within 30 s").isLessThan(until);
            Thread.onSpinWait();
            Thread.sleep(100); // polling a child process's port: no event to wait on
        }
        endpoint = URI.create("http://127.0.0.1:" + port + "/");
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(endpoint.resolve(bucket))
                .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("create bucket: " + r.body()).isEqualTo(200);
    }

    @AfterAll
    static void stop() {
        if (moto != null) {
            moto.destroy();
        }
    }

    private ArtifactStore store() throws IOException {
        return ArtifactStores.open("s3://" + bucket + "/it-" + System.nanoTime() + "?endpoint=" + endpoint + "&region=us-east-1",
                access, secret, staging);
    }

    @Test
    void storesReadsAndSizesByContent() throws IOException {
        ArtifactStore store = store();
        byte[] data = "inputs for a job\n".repeat(5000).getBytes(StandardCharsets.UTF_8);
        ArtifactStore.Artifact a = store.put(new ByteArrayInputStream(data), data.length);
        assertThat(a.sha256()).isEqualTo(Sha256.hex(data));
        assertThat(store.size(a.sha256())).contains((long) data.length);
        try (InputStream in = store.open(a.sha256()).orElseThrow()) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
        assertThat(store.put(new ByteArrayInputStream(data), data.length)).isEqualTo(a);
        assertThat(staging).isEmptyDirectory();
    }

    @Test
    void absentTooLargeAndWrongKeys() throws IOException {
        ArtifactStore store = store();
        String absent = Sha256.hex("nothing".getBytes(StandardCharsets.UTF_8));
        assertThat(store.open(absent)).isEmpty();
        assertThat(store.size(absent)).isEmpty();
        assertThatThrownBy(() -> store.put(new ByteArrayInputStream(new byte[11]), 10)).isInstanceOf(ArtifactStore.TooLarge.class);
        assertThat(store.size(Sha256.hex(new byte[11]))).isEmpty();
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean onPath(String exe) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, exe))) {
                return true;
            }
        }
        return false;
    }
}
