package io.agora.worker;

import io.agora.events.JobSpec;
import io.agora.schemas.AgoraConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The most a task may ask of this worker, whatever the client set: cpus, memory, pids, GPUs,
 * timeout and the number of declared output files. The output folder's size and entry count
 * ({@code outputMb}, {@code outputEntries}) are enforced by {@link DockerSandbox} while the task
 * runs, since the spec does not declare them. A task above any cap is
 * refused, not run, and not clamped: a clamped task would run with less than the client paid
 * for and its replicas on other workers could disagree for that reason alone. Configured per
 * worker with {@code agora.worker.max.*} ({@code AGORA_WORKER_MAX_*}).
 */
public record TaskCaps(double cpus, long memoryMb, long pids, int gpus, long timeoutMs, int outputFiles,
                       long outputMb, long outputEntries) {
    static final String PREFIX = WorkerConfig.PREFIX + "max.";

    public static TaskCaps from(AgoraConfig c) {
        return new TaskCaps(
                c.getDouble(PREFIX + "cpus", Runtime.getRuntime().availableProcessors()),
                c.getLong(PREFIX + "memory.mb", 8192),
                c.getLong(PREFIX + "pids", 1024),
                c.getInt(PREFIX + "gpus", 8),
                c.getLong(PREFIX + "timeout.ms", 3_600_000),
                c.getInt(PREFIX + "output.files", 16),
                c.getLong(PREFIX + "output.mb", 64),
                c.getLong(PREFIX + "output.entries", 1000));
    }

    /** Why this worker refuses the task, naming each value above its cap and the setting that raises it. */
    public Optional<String> refusal(JobSpec spec) {
        List<String> over = new ArrayList<>();
        check(over, "cpus", spec.getCpus(), cpus, "CPUS");
        check(over, "memoryMb", spec.getMemoryMb(), memoryMb, "MEMORY_MB");
        check(over, "pidsLimit", spec.getPidsLimit(), pids, "PIDS");
        check(over, "gpus", spec.getGpus(), gpus, "GPUS");
        check(over, "timeoutMs", spec.getTimeoutMs(), timeoutMs, "TIMEOUT_MS");
        check(over, "outputFiles", spec.getOutputFiles().size(), outputFiles, "OUTPUT_FILES");
        if (over.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("refused, not run: " + String.join("; ", over));
    }

    private static void check(List<String> over, String field, double asked, double cap, String env) {
        if (asked > cap) {
            over.add(field + " " + plain(asked) + " is above this worker's cap of " + plain(cap)
                    + " (AGORA_WORKER_MAX_" + env + ")");
        }
    }

    private static String plain(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
