package io.agora.ingest.jobs;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;

import java.util.List;
import java.util.Map;

/**
 * A client's job as posted to {@code POST /api/v1/jobs}. Every field is optional at the JSON
 * level so that {@link JobRequestRules} can report every missing or invalid one in one answer.
 */
@Serdeable
public record SubmitJob(@Nullable String image,
                        @Nullable List<String> command,
                        @Nullable Map<String, String> env,
                        @Nullable Long timeoutMs,
                        @Nullable Integer memoryMb,
                        @Nullable Double cpus,
                        @Nullable Integer pidsLimit,
                        @Nullable Boolean network,
                        @Nullable List<String> outputFiles,
                        @Nullable Integer redundancy,
                        @Nullable Integer quorum,
                        @Nullable String strategy,
                        @Nullable Integer maxTotalResults,
                        @Nullable Integer maxAttempts,
                        @Nullable Integer priority,
                        @Nullable Long queueTimeoutMs,
                        @Nullable Long deadlineMs,
                        @Nullable Long maxPricePerCpuSecondMicros,
                        @Nullable JobRequirements requirements,
                        @Nullable Integer gpus,
                        @Nullable String verification) {

    /** Hard filters on workers; all optional. */
    @Serdeable
    public record JobRequirements(@Nullable String pool,
                                  @Nullable Integer minCpuCores,
                                  @Nullable Long minMemoryMb,
                                  @Nullable String gpuModel,
                                  @Nullable Integer minGpuCount,
                                  @Nullable Long minGpuVramMb,
                                  @Nullable String accelerator,
                                  @Nullable String region,
                                  @Nullable List<String> tagsAll,
                                  @Nullable List<String> tagsAny,
                                  @Nullable List<String> capabilitiesAny,
                                  @Nullable Integer minReputation) {
        public static JobRequirements none() {
            return new JobRequirements(null, null, null, null, null, null, null, null, null, null, null, null);
        }
    }
}
