package io.agora.ingest.jobs;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import io.swagger.v3.oas.annotations.media.Schema;

import java.util.List;
import java.util.Map;

import static io.agora.ingest.jobs.JobRequestRules.*;

/**
 * A client's job as posted to {@code POST /api/v1/jobs}. Every field is optional at the JSON
 * level so that {@link JobRequestRules} can report every missing or invalid one in one answer.
 * The {@link Schema} annotations document each field for the OpenAPI document; their defaults
 * and limits are {@link JobRequestRules}' constants, so the document cannot drift from the rules.
 */
@Serdeable
@Schema(description = "A container job: what to run, on how many replicas, agreed by which quorum, at what price")
public record SubmitJob(
        @Schema(description = "Container image reference, e.g. agora/busybox:1", requiredMode = Schema.RequiredMode.REQUIRED,
                pattern = IMAGE_PATTERN, maxLength = io.agora.market.Limits.IMAGE_MAX)
        @Nullable String image,
        @Schema(description = "Command and arguments (a non-empty array), run without a shell",
                requiredMode = Schema.RequiredMode.REQUIRED)
        @Nullable List<String> command,
        @Schema(description = "Environment variables; names match " + ENV_NAME_PATTERN + "; default none")
        @Nullable Map<String, String> env,
        @Schema(description = "Wall-clock limit of one replica's run", defaultValue = "" + DEFAULT_TIMEOUT_MS,
                minimum = "" + MIN_TIMEOUT_MS, maximum = "" + MAX_TIMEOUT_MS)
        @Nullable Long timeoutMs,
        @Schema(description = "Memory limit of the container", defaultValue = "" + DEFAULT_MEMORY_MB,
                minimum = "" + MIN_MEMORY_MB, maximum = "" + MAX_MEMORY_MB)
        @Nullable Integer memoryMb,
        @Schema(description = "CPU share of the container (> 0); the price is per CPU-second",
                defaultValue = "" + DEFAULT_CPUS, minimum = "0", exclusiveMinimum = true, maximum = "" + MAX_CPUS)
        @Nullable Double cpus,
        @Schema(description = "Process limit of the container", defaultValue = "" + DEFAULT_PIDS,
                minimum = "1", maximum = "" + MAX_PIDS)
        @Nullable Integer pidsLimit,
        @Schema(description = "Whether the container has a network", defaultValue = "false")
        @Nullable Boolean network,
        @Schema(description = "Files whose content joins the output (and its hash); each a path under " + OUTPUT_DIR
                + " without '..'; default none")
        @Nullable List<String> outputFiles,
        @Schema(description = "Replicas run on distinct workers; 1 only in a trusted pool",
                defaultValue = "" + DEFAULT_REDUNDANCY, minimum = "1", maximum = "" + MAX_REDUNDANCY)
        @Nullable Integer redundancy,
        @Schema(description = "Matching outputs needed to accept a result; at most redundancy; default "
                + DEFAULT_QUORUM + " (1 when redundancy is 1)", defaultValue = "" + DEFAULT_QUORUM, minimum = "1")
        @Nullable Integer quorum,
        @Schema(description = "How replicas' outputs are agreed", defaultValue = "k-of-n",
                allowableValues = {"first", "majority", "k-of-n", "reputation-weighted", "adaptive", "stake-weighted", "bft"})
        @Nullable String strategy,
        @Schema(description = "Results the market may pay for before giving up; at least redundancy; default 2 × redundancy",
                maximum = "" + MAX_TOTAL_RESULTS)
        @Nullable Integer maxTotalResults,
        @Schema(description = "Runs of one replica before it fails", defaultValue = "" + DEFAULT_MAX_ATTEMPTS,
                minimum = "1", maximum = "" + MAX_ATTEMPTS)
        @Nullable Integer maxAttempts,
        @Schema(description = "Higher runs first within a pool", defaultValue = "0",
                minimum = "-" + MAX_PRIORITY, maximum = "" + MAX_PRIORITY)
        @Nullable Integer priority,
        @Schema(description = "Time the job may wait for workers before it expires",
                defaultValue = "" + DEFAULT_QUEUE_TIMEOUT_MS, minimum = "" + MIN_WAIT_MS, maximum = "" + MAX_QUEUE_TIMEOUT_MS)
        @Nullable Long queueTimeoutMs,
        @Schema(description = "Time from submission by which the job must be decided",
                defaultValue = "" + DEFAULT_DEADLINE_MS, minimum = "" + MIN_WAIT_MS, maximum = "" + MAX_DEADLINE_MS)
        @Nullable Long deadlineMs,
        @Schema(description = "Highest price per CPU-second the client pays, in micro-credits; the escrow is held from it",
                requiredMode = Schema.RequiredMode.REQUIRED, minimum = "1")
        @Nullable Long maxPricePerCpuSecondMicros,
        @Schema(description = "Hard filters on workers; default none (pool " + DEFAULT_POOL + ")")
        @Nullable JobRequirements requirements,
        @Schema(description = "GPUs given to the container", defaultValue = "0", minimum = "0", maximum = "" + MAX_GPUS)
        @Nullable Integer gpus,
        @Schema(description = "Uploaded files (POST /api/v1/files) the job sees read-only under /inputs; at most "
                + MAX_INPUTS + "; default none")
        @Nullable List<Input> inputs,
        @Schema(description = "Verification level, instead of redundancy/quorum/strategy: none (1 replica, trusted pools"
                + " only), hash (2 agreeing replicas, up to 3 results), full (BFT: 3 of 4, up to 7 results)",
                allowableValues = {"none", "hash", "full"})
        @Nullable String verification) {

    /** An uploaded file ({@code POST /api/v1/files}) the job sees read-only at {@code /inputs/<path>}. */
    @Serdeable
    @Schema(description = "An input file: a relative plain path under /inputs and the SHA-256 of a file you uploaded")
    public record Input(@Nullable String path, @Nullable String sha256) {
    }

    /** Hard filters on workers; all optional. */
    @Serdeable
    @Schema(description = "Hard filters on workers; all optional")
    public record JobRequirements(
            @Schema(description = "Pool the job runs in", defaultValue = DEFAULT_POOL, pattern = POOL_PATTERN)
            @Nullable String pool,
            @Schema(description = "Least CPU cores of a worker", defaultValue = "0", minimum = "0",
                    maximum = "" + MAX_MIN_CPU_CORES)
            @Nullable Integer minCpuCores,
            @Schema(description = "Least memory of a worker", defaultValue = "0", minimum = "0",
                    maximum = "" + MAX_MIN_MEMORY_MB)
            @Nullable Long minMemoryMb,
            @Schema(description = "GPU model a worker must have; default any")
            @Nullable String gpuModel,
            @Schema(description = "Least GPUs of a worker", defaultValue = "0", minimum = "0",
                    maximum = "" + MAX_MIN_GPU_COUNT)
            @Nullable Integer minGpuCount,
            @Schema(description = "Least GPU memory of a worker", defaultValue = "0", minimum = "0",
                    maximum = "" + MAX_MIN_GPU_VRAM_MB)
            @Nullable Long minGpuVramMb,
            @Schema(description = "Accelerator a worker must have; default any")
            @Nullable String accelerator,
            @Schema(description = "Region a worker must be in; default any")
            @Nullable String region,
            @Schema(description = "Tags a worker must all have; default none")
            @Nullable List<String> tagsAll,
            @Schema(description = "Tags of which a worker must have one; default none")
            @Nullable List<String> tagsAny,
            @Schema(description = "Capabilities of which a worker must have one; default none")
            @Nullable List<String> capabilitiesAny,
            @Schema(description = "Least reputation of a worker", defaultValue = "" + DEFAULT_MIN_REPUTATION)
            @Nullable Integer minReputation,
            @Schema(description = "Highest price per GPU-second the client pays (each of the job's gpus), in micro-credits;"
                    + " the escrow covers it; 0 = only workers that charge nothing for GPUs", defaultValue = "0", minimum = "0")
            @Nullable Long maxPricePerGpuSecondMicros,
            @Schema(description = "Highest price per GiB-second of the job's memory (memoryMb rounded up to whole GiB),"
                    + " in micro-credits; the escrow covers it; 0 = only workers that charge nothing for memory",
                    defaultValue = "0", minimum = "0")
            @Nullable Long maxPricePerGbSecondMicros) {
        public static JobRequirements none() {
            return new JobRequirements(null, null, null, null, null, null, null, null, null, null, null, null, null, null);
        }
    }
}
