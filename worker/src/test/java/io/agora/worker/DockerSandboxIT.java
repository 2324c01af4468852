package io.agora.worker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import io.agora.schemas.AgoraConfig;
import io.agora.events.JobSpec;
import io.agora.events.ResultStatus;
import io.agora.schemas.OutputHash;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sandbox against the real Docker engine: isolation and limits hold, and no container is
 * left behind. Fails (does not skip) when the engine is absent: CI installs it.
 */
@Timeout(30)
class DockerSandboxIT {
    @TempDir
    static Path state;
    static DockerClient docker;
    static DockerSandbox sandbox;
    static final String WORKER = "test-" + UUID.randomUUID();

    @BeforeAll
    static void engine() throws Exception {
        docker = DockerSandbox.client("unix:///var/run/docker.sock");
        docker.pingCmd().exec(); // loud failure when the engine is absent
        Path script = Path.of(DockerSandboxIT.class.getResource("/build-test-image.sh").toURI());
        Process p = new ProcessBuilder("sh", script.toString(), Tasks.IMAGE).inheritIO().start();
        assertThat(p.waitFor()).as("building " + Tasks.IMAGE).isZero();
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", state.toString(),
                "agora.worker.stdout.cap", "65536")));
        sandbox = new DockerSandbox(docker, cfg, WORKER, new CircuitBreaker("docker", 3, 1000));
        // warm up the client (Jackson, connection pool), then measure the container cycle time
        sandbox.run(Tasks.task(WORKER, Tasks.spec("true").build()));
        int n = 5;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            assertThat(sandbox.run(Tasks.task(WORKER, Tasks.spec("true").build())).status()).isEqualTo(ResultStatus.SUCCEEDED);
        }
        System.out.printf("container cycle (create, attach, start, wait, remove): %d ms%n",
                (System.nanoTime() - t0) / 1_000_000 / n);
    }

    @AfterAll
    static void close() {
        sandbox.close();
    }

    @AfterEach
    void noContainerLeft() {
        List<Container> left = docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(DockerSandbox.LABEL_WORKER, WORKER)).exec();
        assertThat(left).isEmpty();
    }

    private SandboxOutcome run(JobSpec spec) {
        return sandbox.run(Tasks.task(WORKER, spec));
    }

    @Test
    void succeeds_and_hashes_exit_code_and_stdout() {
        SandboxOutcome o = run(Tasks.spec("sh", "-c", "echo hello; echo oops >&2; id -u").build());
        assertThat(o.status()).isEqualTo(ResultStatus.SUCCEEDED);
        assertThat(new String(o.stdout(), StandardCharsets.UTF_8)).isEqualTo("hello\n65534\n");
        assertThat(new String(o.stderr(), StandardCharsets.UTF_8)).isEqualTo("oops\n");
        assertThat(o.outputHash()).isEqualTo(OutputHash.of(0, "hello\n65534\n".getBytes(StandardCharsets.UTF_8), Map.of()));
    }

    @Test
    void has_no_network() {
        SandboxOutcome o = run(Tasks.spec("sh", "-c", "nc -w 1 1.1.1.1 80 </dev/null && echo reached; "
                + "wget -T 1 -q -O- http://1.1.1.1/ && echo reached; ip -o link | grep -v ' lo' ; exit 0").build());
        assertThat(new String(o.stdout(), StandardCharsets.UTF_8)).doesNotContain("reached").doesNotContain("eth0");
    }

    @Test
    void root_is_read_only_and_tmp_is_writable() {
        SandboxOutcome o = run(Tasks.spec("sh", "-c", "echo x > /tmp/ok && cat /tmp/ok && echo x > /bin/evil").build());
        assertThat(o.status()).isEqualTo(ResultStatus.FAILED_EXIT);
        assertThat(o.exitCode()).isNotZero();
        assertThat(new String(o.stdout(), StandardCharsets.UTF_8)).isEqualTo("x\n");
        assertThat(new String(o.stderr(), StandardCharsets.UTF_8)).contains("Read-only file system");
    }

    @Test
    void memory_bomb_ends_out_of_memory() {
        SandboxOutcome o = run(Tasks.spec("sh", "-c", "x=a; while true; do x=$x$x; done").setMemoryMb(16).build());
        assertThat(o.status()).isEqualTo(ResultStatus.OUT_OF_MEMORY);
    }

    @Test
    void fork_bomb_hits_the_pids_limit() {
        SandboxOutcome o = run(Tasks.spec("sh", "-c", "i=0; while [ $i -lt 200 ]; do sleep 5 & i=$((i+1)); done; echo spawned $i")
                .setPidsLimit(16).setTimeoutMs(2500).build());
        assertThat(o.status()).isIn(ResultStatus.FAILED_EXIT, ResultStatus.TIMEOUT);
        assertThat(new String(o.stdout(), StandardCharsets.UTF_8)).doesNotContain("spawned 200");
        assertThat(new String(o.stderr(), StandardCharsets.UTF_8)).containsIgnoringCase("resource temporarily unavailable");
    }

    @Test
    void wall_clock_timeout_kills_the_job() {
        long t0 = System.currentTimeMillis();
        SandboxOutcome o = run(Tasks.spec("sleep", "30").setTimeoutMs(1000).build());
        assertThat(o.status()).isEqualTo(ResultStatus.TIMEOUT);
        assertThat(System.currentTimeMillis() - t0).isLessThan(3000);
    }

    @Test
    void large_stdout_is_truncated_and_flagged() {
        SandboxOutcome o = run(Tasks.spec("sh", "-c", "yes | head -c 1000000").build());
        assertThat(o.status()).isEqualTo(ResultStatus.SUCCEEDED);
        assertThat(o.stdout()).hasSize(65536);
        assertThat(o.stdoutTruncated()).isTrue();
    }

    @Test
    void declared_output_file_is_copied_out_and_hashed() {
        SandboxOutcome o = run(Tasks.spec("sh", "-c", "printf result > /tmp/out.txt; echo done")
                .setOutputFiles(List.of("/tmp/out.txt", "/tmp/never.txt")).build());
        assertThat(o.status()).isEqualTo(ResultStatus.SUCCEEDED);
        assertThat(o.fileHashes()).containsEntry("/tmp/out.txt", OutputHash.sha256Hex("result".getBytes(StandardCharsets.UTF_8)))
                .containsEntry("/tmp/never.txt", "absent");
        assertThat(o.outputHash()).isEqualTo(OutputHash.of(0, "done\n".getBytes(StandardCharsets.UTF_8), o.fileHashes()));
    }

    @Test
    void inputs_are_mounted_read_only_and_files_left_in_outputs_are_hashed_and_kept() throws Exception {
        io.agora.artifacts.DiskArtifactStore market = new io.agora.artifacts.DiskArtifactStore(state.resolve("market"));
        MarketFiles files = new MarketFiles() {
            @Override
            public void fetch(String sha256, Path target) throws java.io.IOException {
                try (java.io.InputStream in = market.open(sha256).orElseThrow(() -> new java.io.IOException("no file " + sha256))) {
                    java.nio.file.Files.copy(in, target);
                }
            }

            @Override
            public void upload(Path file, String sha256) throws java.io.IOException {
                try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
                    assertThat(market.put(in, 1 << 20).sha256()).isEqualTo(sha256);
                }
            }
        };
        byte[] data = "1\n2\n3\n".getBytes(StandardCharsets.UTF_8);
        String sha = market.put(new java.io.ByteArrayInputStream(data), 100).sha256();
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", state.toString())));
        try (DockerSandbox withFiles = new DockerSandbox(DockerSandbox.client("unix:///var/run/docker.sock"), cfg, WORKER,
                new CircuitBreaker("docker", 3, 1000), files)) {
            SandboxOutcome o = withFiles.run(Tasks.task(WORKER, Tasks.spec("sh", "-c",
                            "cp /inputs/data/nums.txt /outputs/copy.txt; mkdir /outputs/sub; printf x > /outputs/sub/x;"
                                    + " ln -s /etc/passwd /outputs/link; (echo y > /inputs/data/nums.txt) 2>/dev/null || echo read-only")
                    .setInputs(List.of(io.agora.events.InputFile.newBuilder().setPath("data/nums.txt").setSha256(sha).build()))
                    .build()));
            assertThat(o.status()).as(o.reason()).isEqualTo(ResultStatus.SUCCEEDED);
            assertThat(new String(o.stdout(), StandardCharsets.UTF_8)).isEqualTo("read-only\n");
            String x = OutputHash.sha256Hex("x".getBytes(StandardCharsets.UTF_8));
            assertThat(o.fileHashes()).as("the symbolic link is left out").isEqualTo(Map.of("/outputs/copy.txt", sha, "/outputs/sub/x", x));
            assertThat(market.size(x)).as("uploaded").contains(1L);
            assertThat(o.outputHash()).isEqualTo(OutputHash.of(0, "read-only\n".getBytes(StandardCharsets.UTF_8), o.fileHashes()));

            String missing = OutputHash.sha256Hex("never uploaded".getBytes(StandardCharsets.UTF_8));
            SandboxOutcome noInput = withFiles.run(Tasks.task(WORKER, Tasks.spec("true")
                    .setInputs(List.of(io.agora.events.InputFile.newBuilder().setPath("a").setSha256(missing).build())).build()));
            assertThat(noInput.status()).isEqualTo(ResultStatus.SANDBOX_ERROR);
            assertThat(noInput.reason()).contains("input a (" + missing + ") could not be fetched");
        }
    }

    @Test
    void nothing_is_copied_out_after_a_timeout() {
        SandboxOutcome o = run(Tasks.spec("sh", "-c", "printf result > /tmp/out.txt; sleep 30")
                .setOutputFiles(List.of("/tmp/out.txt")).setTimeoutMs(1000).build());
        assertThat(o.status()).isEqualTo(ResultStatus.TIMEOUT);
        assertThat(o.fileHashes()).isEmpty();
    }

    @Test
    void an_output_folder_over_its_size_or_entry_cap_kills_the_task_and_nothing_is_copied() {
        WorkerConfig small = WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", state.toString(),
                "agora.worker.max.output.mb", "1", "agora.worker.max.output.entries", "50")));
        DockerSandbox capped = new DockerSandbox(docker, small, WORKER, new CircuitBreaker("docker", 3, 1000));
        long t0 = System.currentTimeMillis();
        SandboxOutcome big = capped.run(Tasks.task(WORKER, Tasks.spec("sh", "-c",
                        "printf result > /tmp/out.txt; head -c 50000000 /dev/zero > /tmp/fill; sleep 20")
                .setOutputFiles(List.of("/tmp/out.txt")).setTimeoutMs(25_000).build()));
        assertThat(big.status()).as("the job's own doing").isEqualTo(ResultStatus.OUTPUT_OVER_CAPS);
        assertThat(big.reason()).contains("output folder over its cap of 1 MB", "nothing copied");
        assertThat(big.fileHashes()).isEmpty();
        assertThat(System.currentTimeMillis() - t0).as("killed, not left to its timeout").isLessThan(15_000);

        SandboxOutcome many = capped.run(Tasks.task(WORKER, Tasks.spec("sh", "-c",
                        "i=0; while [ $i -lt 200 ]; do : > /tmp/f$i; i=$((i+1)); done; printf x > /tmp/out.txt")
                .setOutputFiles(List.of("/tmp/out.txt")).build()));
        assertThat(many.status()).isEqualTo(ResultStatus.OUTPUT_OVER_CAPS);
        assertThat(many.reason()).contains("over its cap of 50 entries");
        assertThat(many.fileHashes()).isEmpty();
    }

    @Test
    void on_start_a_worker_removes_the_containers_its_last_run_left_and_no_one_elses() throws Exception {
        String crashed = "test-" + UUID.randomUUID();
        String other = "test-" + UUID.randomUUID();
        String mine = docker.createContainerCmd(Tasks.IMAGE).withCmd("sleep", "300")
                .withLabels(Map.of(DockerSandbox.LABEL_WORKER, crashed, DockerSandbox.LABEL_TASK, "job-x/0/1")).exec().getId();
        docker.startContainerCmd(mine).exec();
        String theirs = docker.createContainerCmd(Tasks.IMAGE).withCmd("sleep", "300")
                .withLabels(Map.of(DockerSandbox.LABEL_WORKER, other)).exec().getId();
        try {
            WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", state.toString())));
            try (DockerSandbox restarted = new DockerSandbox(DockerSandbox.client("unix:///var/run/docker.sock"), cfg,
                    crashed, new CircuitBreaker("docker", 3, 1000))) {
                assertThat(restarted.removeLeftovers()).isEqualTo(1);
            }
            assertThat(docker.listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of(DockerSandbox.LABEL_WORKER, crashed)).exec()).isEmpty();
            assertThat(docker.listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of(DockerSandbox.LABEL_WORKER, other)).exec()).hasSize(1);
        } finally {
            for (String id : List.of(mine, theirs)) {
                try {
                    docker.removeContainerCmd(id).withForce(true).exec();
                } catch (com.github.dockerjava.api.exception.NotFoundException e) {
                    // removed as it should be
                }
            }
        }
    }

    @Test
    void missing_image_is_reported_not_pulled() {
        SandboxOutcome o = run(Tasks.spec("true").setImage("agora/no-such-image:0").build());
        assertThat(o.status()).isEqualTo(ResultStatus.IMAGE_MISSING);
    }

    @Test
    void an_image_removed_after_it_ran_here_is_reported_missing_not_a_sandbox_error() {
        String gone = "agora/busybox:removed-" + UUID.randomUUID().toString().substring(0, 8);
        docker.tagImageCmd(Tasks.IMAGE, gone.substring(0, gone.indexOf(':')), gone.substring(gone.indexOf(':') + 1)).exec();
        try {
            assertThat(run(Tasks.spec("true").setImage(gone).build()).status()).isEqualTo(ResultStatus.SUCCEEDED);
        } finally {
            docker.removeImageCmd(gone).exec(); // the tag only: the layers stay with Tasks.IMAGE
        }
        // the sandbox remembers the image as present, and the create that finds it gone says so
        SandboxOutcome o = run(Tasks.spec("true").setImage(gone).build());
        assertThat(o.status()).isEqualTo(ResultStatus.IMAGE_MISSING);
        assertThat(o.reason()).contains(gone);
    }

    @Test
    void non_zero_exit_is_a_vote() {
        SandboxOutcome o = run(Tasks.spec("sh", "-c", "echo partial; exit 3").build());
        assertThat(o.status()).isEqualTo(ResultStatus.FAILED_EXIT);
        assertThat(o.exitCode()).isEqualTo(3);
        assertThat(o.votes()).isTrue();
    }
}
