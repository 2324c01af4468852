package io.agora.matcher;

import io.agora.events.CommandType;
import io.agora.events.JobCommand;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobRequested;
import io.agora.events.JobTerms;
import io.agora.events.JobVerdict;
import io.agora.events.Outcome;
import io.agora.events.ReputationChanged;
import io.agora.events.TaskAssigned;
import io.agora.matcher.PoolState.Job;
import io.agora.matcher.PoolState.Replica;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The records a pool's market ({@link PoolMarket}) writes, built in one place: the task of a
 * replica's attempt with the job's terms ({@code agora.jobs.tasks}), the verdict of a job the
 * matcher ends itself, REPLICA_FAILED for the verifier ({@code agora.jobs.commands}), job events
 * and reputation changes; each stamped with {@code now}, the time of the input that caused it.
 */
final class PoolRecords {
    private PoolRecords() {
    }

    /** The task of replica {@code r}'s current attempt, unsigned (the topology signs it). */
    static TaskAssigned task(String pool, Job job, Replica r) {
        JobRequested q = job.request;
        Instant submitted = q.getSubmittedAt();
        JobTerms terms = JobTerms.newBuilder()
                .setClientId(q.getClientId()).setPool(pool).setRedundancy(q.getRedundancy())
                .setQuorum(q.getQuorum()).setStrategy(q.getStrategy()).setMaxTotalResults(q.getMaxTotalResults())
                .setMaxPricePerCpuSecondMicros(q.getRequirements().getMaxPricePerCpuSecondMicros())
                .setMaxPricePerGpuSecondMicros(q.getRequirements().getMaxPricePerGpuSecondMicros())
                .setMaxPricePerGbSecondMicros(q.getRequirements().getMaxPricePerGbSecondMicros())
                .setEscrowMicros(job.escrowMicros).setSubmittedAt(submitted)
                .setDeadline(submitted.plusMillis(q.getDeadlineMs())).build();
        return TaskAssigned.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setTaskId(r.taskId(job.jobId)).setJobId(job.jobId)
                .setWorkerId(r.workerId).setReplica(r.replica).setAttempt(r.attempt).setSpec(q.getSpec())
                .setTerms(terms).setPricePerCpuSecondMicros(r.price).setMinPricePerJobMicros(r.minPricePerJob)
                .setPricePerGpuSecondMicros(r.gpuPrice).setPricePerGbSecondMicros(r.memoryPrice)
                .setLeaseDeadline(Instant.ofEpochMilli(r.leaseDeadline)).setScore(r.score)
                .setExplain(r.explain == null ? "" : r.explain).setAssignedAt(Instant.ofEpochMilli(r.assignedAt))
                .build();
    }

    /** The verdict of a job that never had a task: nothing paid, the whole escrow refunded. */
    static JobVerdict unplacedVerdict(Job job, Outcome outcome, String reason, long now) {
        JobRequested q = job.request;
        return JobVerdict.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setJobId(job.jobId).setClientId(q.getClientId())
                .setOutcome(outcome).setCostMicros(0).setRefundMicros(job.escrowMicros).setReason(reason)
                .setSubmittedAt(q.getSubmittedAt()).setDecidedAt(Instant.ofEpochMilli(now)).build();
    }

    /** The matcher will not run replica {@code replica}: the verifier counts it finished without a vote. */
    static JobCommand replicaFailed(String pool, String jobId, String clientId, int replica, List<String> exclude,
                                    String reason, long now) {
        return JobCommand.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setJobId(jobId)
                .setClientId(clientId).setPool(pool).setType(CommandType.REPLICA_FAILED)
                .setReplica(replica).setExcludeWorkers(new ArrayList<>(exclude))
                .setReason(reason).setTimestamp(Instant.ofEpochMilli(now)).build();
    }

    static ReputationChanged reputation(String workerId, int delta, String reason, String jobId, long now) {
        return ReputationChanged.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setWorkerId(workerId).setDelta(delta)
                .setReason(reason).setJobId(jobId).setTimestamp(Instant.ofEpochMilli(now)).build();
    }

    static JobEvent event(String pool, Job job, JobEventType type, String reason, String workerId, int replica, int attempt,
                          long now) {
        return JobEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(job.jobId)
                .setClientId(job.request.getClientId()).setType(type).setReason(reason).setWorkerId(workerId)
                .setReplica(replica).setAttempt(attempt).setPool(pool).setEscrowMicros(job.escrowMicros)
                .setTimestamp(Instant.ofEpochMilli(now)).build();
    }
}
