package io.agora.worker;

import io.agora.events.ResultStatus;
import io.agora.schemas.AgoraConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An engine that takes the connection and never answers: every Docker call ends at its timeout.
 * The test's own timeout runs it on a separate thread: a call without a deadline blocks in a
 * socket read that no interrupt ends.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DockerEngineHungTest {
    @TempDir
    Path dir;

    @Test
    void a_hung_engine_fails_the_task_within_the_call_timeout_instead_of_holding_its_slot() throws Exception {
        List<Socket> held = new CopyOnWriteArrayList<>();
        try (ServerSocket engine = new ServerSocket(0)) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(engine.accept()); // read nothing, answer nothing
                    }
                } catch (Exception e) {
                    // closed
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", dir.toString(),
                    "agora.worker.docker.call.timeout.ms", "300")));
            CircuitBreaker breaker = new CircuitBreaker("docker engine", 3, 60_000);
            try (DockerSandbox sandbox = new DockerSandbox(DockerSandbox.client("tcp://127.0.0.1:" + engine.getLocalPort()),
                    cfg, "w", breaker)) {
                long t0 = System.nanoTime();
                SandboxOutcome o = sandbox.run(Tasks.task("w", Tasks.spec("true").build()));
                long tookMs = (System.nanoTime() - t0) / 1_000_000;
                assertThat(o.status()).isEqualTo(ResultStatus.SANDBOX_ERROR);
                assertThat(o.reason()).contains("did not answer within 300 ms");
                assertThat(tookMs).as("three tries of 300 ms and their backoff").isLessThan(10_000);
                assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
                long p0 = System.nanoTime();
                assertThat(sandbox.probe()).contains("docker engine unreachable");
                assertThat((System.nanoTime() - p0) / 1_000_000).isLessThan(5_000);
                assertThat(sandbox.removeLeftovers()).isZero();
            }
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }
}
