package io.agora.worker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import io.agora.events.ResultStatus;
import io.agora.schemas.AgoraConfig;
import io.agora.schemas.testing.OciTestRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A real OCI registry (Debian's docker-registry, the CNCF distribution) on loopback: the job image
 * is pushed to it, its local copies under the registry's name are removed, and a DockerSandbox
 * task pulls it by digest; an image outside the worker's allowlist (which it registers, so the matcher
 * keeps such jobs from it) ends the task IMAGE_MISSING, an
 * unknown digest or a registry refusing the worker's login IMAGE_PULL_FAILED (both the market's
 * fault), with the registry's message. A second registry on the same storage wants a login
 * (htpasswd): the worker holding its credentials ({@code registry.auth}) pulls from it.
 */
class ImagePullIT {
    static final int PORT = 19501; // below the kernel's ephemeral range (32768-60999): no outgoing connection can hold it
    static final String REGISTRY = "localhost:" + PORT;
    static final int LOCKED_PORT = 19502;
    static final String WORKER = "test-" + UUID.randomUUID();

    @TempDir
    static Path state;
    static OciTestRegistry registry;
    static DockerClient docker;
    static String byDigest;

    @BeforeAll
    static void registryWithTheJobImage() throws Exception {
        docker = DockerSandbox.client("unix:///var/run/docker.sock");
        docker.pingCmd().exec();
        Path script = Path.of(ImagePullIT.class.getResource("/build-test-image.sh").toURI());
        assertThat(new ProcessBuilder("sh", script.toString(), Tasks.IMAGE).inheritIO().start().waitFor()).isZero();
        registry = OciTestRegistry.start(PORT, state.resolve("oci"));
        byDigest = registry.push(Tasks.IMAGE);
        // the worker must pull it: drop the registry-named tag (agora/busybox:1 keeps the layers)
        OciTestRegistry.docker("rmi", REGISTRY + "/" + Tasks.IMAGE);
        assertThatThrownBy(() -> docker.inspectImageCmd(byDigest).exec()).isInstanceOf(NotFoundException.class);
    }

    @AfterAll
    static void stop() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    static DockerSandbox sandbox(String allowed) {
        return sandbox(allowed, "");
    }

    static DockerSandbox sandbox(String allowed, String registryAuth) {
        return sandbox(Map.of("agora.worker.pull.allowed", allowed, "agora.worker.registry.auth", registryAuth));
    }

    static DockerSandbox sandbox(Map<String, String> settings) {
        Map<String, String> all = new java.util.HashMap<>(settings);
        all.put("agora.worker.state.dir", state.toString());
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(all));
        // a client of its own: closing the sandbox closes it
        return new DockerSandbox(DockerSandbox.client("unix:///var/run/docker.sock"), cfg, WORKER,
                new CircuitBreaker("docker", 3, 1000));
    }

    @Test
    void a_task_pulls_its_image_by_digest_from_the_registry_and_runs_it() throws Exception {
        try (DockerSandbox s = sandbox(REGISTRY + "/agora/")) {
            SandboxOutcome o = s.run(Tasks.task(WORKER, Tasks.spec("sh", "-c", "echo pulled").setImage(byDigest).build()));
            assertThat(o.status()).as(o.reason()).isEqualTo(ResultStatus.SUCCEEDED);
            assertThat(new String(o.stdout(), StandardCharsets.UTF_8)).isEqualTo("pulled\n");
            assertThat(docker.inspectImageCmd(byDigest).exec().getRepoDigests()).contains(byDigest);
            assertThat(s.pulledImages()).containsExactly(byDigest);
        } finally {
            OciTestRegistry.docker("rmi", byDigest);
        }
    }

    @Test
    void allowed_images_naming_the_repository_admit_the_digest_the_market_resolved_and_nothing_else() throws Exception {
        try (DockerSandbox s = sandbox(Map.of("agora.worker.pull.allowed", REGISTRY,
                "agora.worker.allowed.images", REGISTRY + "/agora/busybox"))) {
            SandboxOutcome o = s.run(Tasks.task(WORKER, Tasks.spec("true").setImage(byDigest).build()));
            assertThat(o.status()).as(o.reason()).isEqualTo(ResultStatus.SUCCEEDED);
            SandboxOutcome local = s.run(Tasks.task(WORKER, Tasks.spec("true").build()));
            assertThat(local.status()).as("present, but not allowed").isEqualTo(ResultStatus.IMAGE_MISSING);
            assertThat(local.reason()).contains("allowed images");
        } finally {
            OciTestRegistry.docker("rmi", byDigest);
        }
    }

    @Test
    void beyond_its_capacity_the_cache_removes_the_least_recently_used_pulled_image() throws Exception {
        OciTestRegistry.docker("tag", Tasks.IMAGE, "agora/other:1");
        String other = registry.push("agora/other:1");
        OciTestRegistry.docker("rmi", "agora/other:1", REGISTRY + "/agora/other:1");
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", state.toString(),
                "agora.worker.pull.allowed", REGISTRY, "agora.worker.image.cache", "1")));
        try (DockerSandbox s = new DockerSandbox(DockerSandbox.client("unix:///var/run/docker.sock"), cfg, WORKER,
                new CircuitBreaker("docker", 3, 1000))) {
            assertThat(s.run(Tasks.task(WORKER, Tasks.spec("true").setImage(byDigest).build())).status())
                    .isEqualTo(ResultStatus.SUCCEEDED);
            assertThat(s.run(Tasks.task(WORKER, Tasks.spec("true").setImage(other).build())).status())
                    .isEqualTo(ResultStatus.SUCCEEDED);
            assertThat(s.pulledImages()).containsExactly(other);
            assertThatThrownBy(() -> docker.inspectImageCmd(byDigest).exec()).isInstanceOf(NotFoundException.class);
            assertThat(docker.inspectImageCmd(other).exec().getRepoDigests()).contains(other);
        } finally {
            OciTestRegistry.docker("rmi", other);
        }
    }

    @Test
    void an_image_outside_the_allowlist_is_refused_and_not_pulled() {
        try (DockerSandbox s = sandbox("localhost:51999")) {
            SandboxOutcome o = s.run(Tasks.task(WORKER, Tasks.spec("true").setImage(byDigest).build()));
            assertThat(o.status()).isEqualTo(ResultStatus.IMAGE_MISSING);
            assertThat(o.reason()).contains("outside this worker's allowlist", byDigest);
            // the allowlist it registers keeps the matcher from offering it such a job in the first place
            assertThat(io.agora.schemas.PullAllowlist.excluded(s.pullAllowlist().orElseThrow(), byDigest))
                    .contains(REGISTRY + "/" + Tasks.IMAGE.substring(0, Tasks.IMAGE.indexOf(':')));
        }
        assertThatThrownBy(() -> docker.inspectImageCmd(byDigest).exec()).isInstanceOf(NotFoundException.class);
    }

    @Test
    void a_failed_pull_carries_the_registrys_message() {
        String unknown = REGISTRY + "/agora/busybox@sha256:" + "0".repeat(64);
        try (DockerSandbox s = sandbox(REGISTRY)) {
            SandboxOutcome o = s.run(Tasks.task(WORKER, Tasks.spec("true").setImage(unknown).build()));
            assertThat(o.status()).isEqualTo(ResultStatus.IMAGE_PULL_FAILED);
            assertThat(o.reason()).contains("pull of " + unknown + " failed", "manifest unknown");
        }
    }

    @Test
    void a_registry_that_wants_a_login_serves_the_worker_holding_its_credentials_and_refuses_the_others() throws Exception {
        // a second registry on the same storage, behind htpasswd: it holds the image pushed to the open one
        try (OciTestRegistry locked = OciTestRegistry.startWithLogin(LOCKED_PORT, state.resolve("oci"), "alice", "s3cret")) {
            // an image no earlier pull can have left in the engine's content store: a cached manifest and
            // layers would let the engine "pull" it by digest without ever asking the registry for a login
            String image = freshImage().replace(REGISTRY, locked.host());
            Path good = state.resolve("registry-auth-good");
            Files.writeString(good, "# test\n" + locked.host() + " alice s3cret\n");
            Path bad = state.resolve("registry-auth-bad");
            Files.writeString(bad, locked.host() + " alice wrong\n");
            Map<String, String> refusals = Map.of("", "no basic auth credentials", bad.toString(), "unauthorized");
            for (Map.Entry<String, String> r : refusals.entrySet()) {
                try (DockerSandbox s = sandbox(locked.host(), r.getKey())) {
                    SandboxOutcome o = s.run(Tasks.task(WORKER, Tasks.spec("true").setImage(image).build()));
                    assertThat(o.status()).as("with credentials file '" + r.getKey() + "'").isEqualTo(ResultStatus.IMAGE_PULL_FAILED);
                    assertThat(o.reason()).contains("pull of " + image + " failed", r.getValue())
                            .doesNotContain("s3cret", "wrong");
                }
            }
            try (DockerSandbox s = sandbox(locked.host(), good.toString())) {
                SandboxOutcome o = s.run(Tasks.task(WORKER, Tasks.spec("sh", "-c", "echo logged in").setImage(image).build()));
                assertThat(o.status()).as(o.reason()).isEqualTo(ResultStatus.SUCCEEDED);
                assertThat(new String(o.stdout(), StandardCharsets.UTF_8)).isEqualTo("logged in\n");
            } finally {
                OciTestRegistry.docker("rmi", image);
            }
        }
    }

    /** Pushes a never-seen image (the job image plus a random label) and forgets it locally; its {@code REGISTRY/…@digest}. */
    static String freshImage() throws Exception {
        String nonce = UUID.randomUUID().toString();
        String local = "agora/login-test:" + nonce.substring(0, 8);
        Process build = new ProcessBuilder("docker", "build", "-q", "-t", local, "-").redirectErrorStream(true).start();
        try (var in = build.getOutputStream()) {
            in.write(("FROM " + Tasks.IMAGE + "\nLABEL agora.test.nonce=" + nonce + "\n").getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(build.waitFor()).as(out).isZero();
        String pushed = registry.push(local);
        OciTestRegistry.docker("rmi", REGISTRY + "/" + local, local);
        return pushed;
    }
}
