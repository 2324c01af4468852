package io.agora.verifier;

import io.agora.events.CommandType;
import io.agora.events.JobCommand;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobTerms;
import io.agora.events.ReputationChanged;
import io.agora.events.StakeOrder;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The records a job's case writes besides its money and verdict, built in one place: the job's
 * events ({@code agora.jobs.events}), reputation changes with the verifier's orders on a stake
 * ({@code agora.workers.reputation}) and the requests for replicas to the matcher
 * ({@code agora.jobs.commands}), each stamped with the job and the time of the input that caused it.
 */
final class CaseRecords {
    private final String jobId;
    private final long now;

    CaseRecords(String jobId, long now) {
        this.jobId = jobId;
        this.now = now;
    }

    String jobId() {
        return jobId;
    }

    /** A step of the job; the VERDICT event carries the escrow it settled. */
    JobEvent event(JobTerms terms, JobEventType type, String reason, String workerId, int replica, int attempt) {
        return JobEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setJobId(jobId)
                .setClientId(terms.getClientId())
                .setType(type)
                .setReason(reason)
                .setWorkerId(workerId)
                .setReplica(replica)
                .setAttempt(attempt)
                .setPool(terms.getPool())
                .setEscrowMicros(type == JobEventType.VERDICT ? terms.getEscrowMicros() : 0)
                .setTimestamp(Instant.ofEpochMilli(now))
                .build();
    }

    /**
     * JobEvent DISPUTED: a dispute refused, opened or decided; {@code pool} null for a job never seen; {@code consensusHash}
     * the hash a decided dispute settles on (null until it is decided), the last step of the job's verdict history.
     * {@code receipt} its signed DisputeReceipt (null until it is decided).
     */
    JobEvent disputeEvent(String clientId, String pool, String reason, String consensusHash,
                          io.agora.events.DisputeReceipt receipt) {
        return JobEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setJobId(jobId)
                .setClientId(clientId)
                .setType(JobEventType.DISPUTED)
                .setReason(reason)
                .setPool(pool)
                .setTimestamp(Instant.ofEpochMilli(now))
                .setConsensusHash(consensusHash)
                .setDisputeReceipt(receipt)
                .build();
    }

    /** A reputation change, carrying the verifier's order on the worker's stake (null: none); the matcher's gate carries it out. */
    ReputationChanged reputation(String workerId, int delta, String reason, StakeOrder stake) {
        return ReputationChanged.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setWorkerId(workerId)
                .setDelta(delta)
                .setReason(reason)
                .setJobId(jobId)
                .setTimestamp(Instant.ofEpochMilli(now))
                .setStake(stake)
                .build();
    }

    /** Asks the matcher for replicas {@code from .. from+count-1} (JobCommand.replica = the first number) on workers not in {@code exclude}. */
    JobCommand requestReplicas(JobTerms terms, int from, int count, List<String> exclude, String reason) {
        return JobCommand.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setJobId(jobId)
                .setClientId(terms.getClientId())
                .setPool(terms.getPool())
                .setType(CommandType.REQUEST_REPLICAS)
                .setCount(count)
                .setReplica(from)
                .setExcludeWorkers(exclude)
                .setReason(reason)
                .setTimestamp(Instant.ofEpochMilli(now))
                .build();
    }
}
