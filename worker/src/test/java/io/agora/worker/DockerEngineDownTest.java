package io.agora.worker;

import io.agora.schemas.AgoraConfig;
import io.agora.events.ResultStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** With no engine behind the socket, tasks fail as SANDBOX_ERROR and the breaker opens. */
class DockerEngineDownTest {
    @TempDir
    Path dir;

    @Test
    void an_unreachable_engine_is_a_sandbox_error_and_opens_the_breaker() {
        String host = "unix://" + dir.resolve("no-docker.sock");
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", dir.toString())));
        CircuitBreaker breaker = new CircuitBreaker("docker engine", 2, 60_000);
        try (DockerSandbox sandbox = new DockerSandbox(DockerSandbox.client(host), cfg, "w", breaker)) {
            SandboxOutcome o = sandbox.run(Tasks.task("w", Tasks.spec("true").build()));
            assertThat(o.status()).isEqualTo(ResultStatus.SANDBOX_ERROR);
            sandbox.run(Tasks.task("w", Tasks.spec("true").build()));
            assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
            assertThat(breaker.lastError()).startsWith("docker engine unreachable");
            SandboxOutcome refused = sandbox.run(Tasks.task("w", Tasks.spec("true").build()));
            assertThat(refused.status()).isEqualTo(ResultStatus.SANDBOX_ERROR);
            assertThat(refused.reason()).contains("circuit open");
            assertThat(sandbox.probe()).contains("docker engine unreachable");
        }
    }

    @Test
    void an_image_outside_its_allowed_images_is_refused_before_the_engine_is_asked() {
        String host = "unix://" + dir.resolve("no-docker.sock");
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", dir.toString(),
                "agora.worker.allowed.images", "agora/tool:1")));
        CircuitBreaker breaker = new CircuitBreaker("docker engine", 1, 60_000);
        try (DockerSandbox sandbox = new DockerSandbox(DockerSandbox.client(host), cfg, "w", breaker)) {
            SandboxOutcome o = sandbox.run(Tasks.task("w", Tasks.spec("true").build()));
            assertThat(o.status()).as("the market's failure, refunded").isEqualTo(ResultStatus.IMAGE_MISSING);
            assertThat(o.reason()).isEqualTo("image " + Tasks.IMAGE + " is not among this worker's allowed images");
            assertThat(breaker.state()).as("no engine call was made").isEqualTo(CircuitBreaker.State.CLOSED);
            assertThat(sandbox.run(Tasks.task("w", Tasks.spec("true").setImage("agora/tool:1").build())).status())
                    .as("an allowed image goes on to the engine, which is down").isEqualTo(ResultStatus.SANDBOX_ERROR);
        }
    }
}
