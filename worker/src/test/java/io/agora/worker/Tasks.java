package io.agora.worker;

import io.agora.events.JobSpec;
import io.agora.events.JobTerms;
import io.agora.events.Strategy;
import io.agora.events.TaskAssigned;
import io.agora.schemas.Identity;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Builds TaskAssigned records for tests. */
final class Tasks {
    static final String IMAGE = "agora/busybox:1";
    /** The matcher's key in the tests: the agent is configured with its public key and takes only tasks it signed. */
    static final Identity MATCHER = Identity.generate();

    private Tasks() {
    }

    static JobSpec.Builder spec(String... command) {
        return JobSpec.newBuilder().setImage(IMAGE).setCommand(List.of(command)).setEnv(Map.of())
                .setTimeoutMs(5000).setMemoryMb(64).setCpus(1.0).setPidsLimit(64).setNetwork(false)
                .setOutputFiles(List.of());
    }

    static TaskAssigned task(String workerId, JobSpec spec) {
        String jobId = "job-" + UUID.randomUUID();
        Instant now = Instant.ofEpochMilli(System.currentTimeMillis());
        return TaskAssigned.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setTaskId(jobId + "/0/1").setJobId(jobId).setWorkerId(workerId).setReplica(0).setAttempt(1)
                .setSpec(spec)
                .setTerms(JobTerms.newBuilder().setClientId("client-1").setPool("public").setRedundancy(1).setQuorum(1)
                        .setStrategy(Strategy.FIRST).setMaxTotalResults(1).setMaxPricePerCpuSecondMicros(1000)
                        .setEscrowMicros(10_000).setSubmittedAt(now).setDeadline(now.plusSeconds(600)).build())
                .setPricePerCpuSecondMicros(800).setLeaseDeadline(now.plusSeconds(60)).setScore(1.0)
                .setExplain("test").setAssignedAt(now)
                .build();
    }
}
