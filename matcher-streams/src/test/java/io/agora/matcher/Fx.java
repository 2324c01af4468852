package io.agora.matcher;

import io.agora.market.MatchRequest;
import io.agora.market.WorkerView;
import io.agora.events.GpuInfo;
import io.agora.events.JobRequested;
import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.events.Strategy;
import io.agora.events.WorkerCapabilities;

import io.agora.schemas.TaskSeal;

import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/** Test fixtures: jobs and worker capabilities (signed worker records: {@link io.agora.schemas.testing.SignedRecords}). */
final class Fx {
    private Fx() {
    }

    static JobSpec spec(long timeoutMs, double cpus, int memoryMb) {
        return JobSpec.newBuilder().setImage("alpine:3").setCommand(List.of("echo", "hi"))
                .setTimeoutMs(timeoutMs).setCpus(cpus).setMemoryMb(memoryMb).build();
    }

    static Requirements.Builder req(long maxPrice) {
        return Requirements.newBuilder().setMaxPricePerCpuSecondMicros(maxPrice);
    }

    /** A 10 s, 1-cpu job at max price 1000: max cost = 1000 x 10 x 1 x maxTotalResults. */
    static JobRequested job(String jobId, String clientId, int n, long submittedAt) {
        return JobRequested.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(jobId)
                .setClientId(clientId).setSpec(spec(10_000, 1.0, 128)).setRequirements(req(1000).build())
                .setRedundancy(n).setQuorum(n).setStrategy(Strategy.K_OF_N).setMaxTotalResults(n)
                .setSubmittedAt(Instant.ofEpochMilli(submittedAt)).build();
    }

    /** The X25519 keys of the test workers: the matcher seals their tasks' specs to the public one. */
    static final TaskSeal.Keys SEAL = TaskSeal.Keys.generate();

    static WorkerCapabilities.Builder caps(String pool, long price) {
        return WorkerCapabilities.newBuilder().setArch("x86_64").setCpuCores(4).setCpuThreads(8).setSealKey(SEAL.publicKey())
                .setMemoryMb(8192).setPricePerCpuSecondMicros(price).setMaxConcurrent(2).setPool(pool)
                .setRegion("eu").setTags(List.of("ssd")).setCapabilities(List.of("python"))
                .setGpus(List.of(GpuInfo.newBuilder().setModel("A100").setCount(2).setVramMb(40_000).build()))
                .setAccelerators(List.of("tpu"));
    }

    static WorkerView view(String id, WorkerCapabilities caps, int freeSlots, long reputation, double load,
                           double latency) {
        return new WorkerView(id, caps.getPool(), true, caps, caps.getPricePerCpuSecondMicros(), freeSlots,
                reputation, List.of(1, 2), load, latency);
    }

    static MatchRequest request(JobSpec spec, Requirements r, int n) {
        return new MatchRequest(spec, r, n, Set.of(), null);
    }
}
