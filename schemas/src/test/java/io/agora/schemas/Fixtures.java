package io.agora.schemas;

import io.agora.events.JobSpec;
import io.agora.events.ResultStatus;
import io.agora.events.TaskResult;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Ready-made events for tests of every module (shipped in the schemas test-jar). */
public final class Fixtures {
    private Fixtures() {
    }

    public static JobSpec spec(String... command) {
        return JobSpec.newBuilder()
                .setImage("agora/busybox:1")
                .setCommand(List.of(command))
                .setEnv(Map.of())
                .setTimeoutMs(10_000)
                .setOutputFiles(List.of())
                .build();
    }

    public static TaskResult result(String jobId, String workerId, int replica, int attempt, String stdout) {
        byte[] out = stdout.getBytes();
        return TaskResult.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setTaskId(jobId + "/" + replica + "/" + attempt)
                .setJobId(jobId)
                .setWorkerId(workerId)
                .setReplica(replica)
                .setAttempt(attempt)
                .setStatus(ResultStatus.SUCCEEDED)
                .setExitCode(0)
                .setOutputSha256(OutputHash.of(0, out, Map.of()))
                .setStdout(stdout)
                .setDurationMs(1200)
                .setStartedAt(Instant.ofEpochMilli(1_000))
                .setFinishedAt(Instant.ofEpochMilli(2_200))
                .setSeq(1)
                .setSignature(ByteBuffer.allocate(0))
                .build();
    }
}
