package io.agora.artifacts;

import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The S3 backend against a real S3 API server: S3Proxy (jclouds' filesystem blob store behind
 * the S3 REST protocol, AWS Signature V4 checked) in this JVM, on a free port — it runs wherever
 * Maven runs, CI included. Set {@code AGORA_TEST_S3_ENDPOINT} (with
 * {@code AGORA_TEST_S3_ACCESS_KEY}/{@code _SECRET_KEY} and an existing bucket
 * {@code AGORA_TEST_S3_BUCKET}) to run it against another service (MinIO, AWS) instead.
 */
class S3ArtifactStoreIT {
    private static S3Proxy proxy;
    private static BlobStoreContext blobs;
    private static URI endpoint;
    private static String bucket = "agora-artifacts";
    private static String access = "agora-test-access";
    private static String secret = "agora-test-secret";

    @TempDir
    static Path blobDir;

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
        Properties settings = new Properties();
        settings.setProperty("jclouds.filesystem.basedir", blobDir.toString());
        blobs = ContextBuilder.newBuilder("filesystem").credentials("identity", "credential")
                .overrides(settings).build(BlobStoreContext.class);
        blobs.getBlobStore().createContainerInLocation(null, bucket);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        URI server = URI.create("http://127.0.0.1:" + port);
        endpoint = URI.create(server + "/");
        proxy = S3Proxy.builder().blobStore(blobs.getBlobStore()).endpoint(server)
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, access, secret).build();
        proxy.start();
        while (!AbstractLifeCycle.STARTED.equals(proxy.getState())) {
            assertThat(AbstractLifeCycle.FAILED).as("S3Proxy starting").isNotEqualTo(proxy.getState());
            Thread.sleep(10); // S3Proxy.start() returns before Jetty has bound: no event to wait on
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.stop();
        }
        if (blobs != null) {
            blobs.close();
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
        assertThat(store.delete(a.sha256())).isTrue();
        assertThat(store.size(a.sha256())).isEmpty();
        assertThat(store.delete(a.sha256())).isFalse();
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

    @Test
    void aWrongSecretIsRefusedByTheServer() throws IOException {
        ArtifactStore wrong = ArtifactStores.open("s3://" + bucket + "/it-" + System.nanoTime() + "?endpoint=" + endpoint
                + "&region=us-east-1", access, secret + "-wrong", staging);
        byte[] data = "x".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> wrong.put(new ByteArrayInputStream(data), data.length)).isInstanceOf(IOException.class);
    }
}
