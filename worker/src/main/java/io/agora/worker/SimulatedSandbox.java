package io.agora.worker;

import io.agora.events.JobSpec;
import io.agora.events.ResultStatus;
import io.agora.events.TaskAssigned;
import io.agora.schemas.OutputHash;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * The benchmark sandbox: instead of starting a container it answers, in microseconds, with a
 * stdout that is a hash of the image, command and environment, so honest simulated workers
 * agree with each other and the rest of the market is exercised at full speed.
 */
public final class SimulatedSandbox implements Sandbox {
    private final long taskMs;

    /** @param taskMs simulated run time of each task (0 = none) */
    public SimulatedSandbox(long taskMs) {
        this.taskMs = taskMs;
    }

    @Override
    public SandboxOutcome run(TaskAssigned task) {
        long start = System.currentTimeMillis();
        if (taskMs > 0) {
            try {
                Thread.sleep(Math.min(taskMs, task.getSpec().getTimeoutMs()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return SandboxOutcome.failed(ResultStatus.SANDBOX_ERROR, "interrupted", start, System.currentTimeMillis());
            }
        }
        byte[] stdout = ("simulated " + OutputHash.sha256Hex(canonical(task.getSpec())) + "\n").getBytes(StandardCharsets.UTF_8);
        return new SandboxOutcome(ResultStatus.SUCCEEDED, null, 0, stdout, false, new byte[0], false, Map.of(),
                start, System.currentTimeMillis());
    }

    static byte[] canonical(JobSpec spec) {
        StringBuilder sb = new StringBuilder(spec.getImage()).append('\0');
        spec.getCommand().forEach(c -> sb.append(c).append('\0'));
        new TreeMap<>(spec.getEnv()).forEach((k, v) -> sb.append(k).append('=').append(v).append('\0'));
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
}
