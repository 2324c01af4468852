package io.agora.verifier;

import io.agora.events.Outcome;
import io.agora.events.SlashTaken;
import io.agora.events.TaskAssigned;
import io.agora.events.state.VerifierJob;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.StateSerde;
import org.apache.kafka.common.serialization.Serde;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The verifier's record of one job (store {@code verifier-jobs}, key jobId): the first task it
 * saw (which carries the job's terms and spec), the results it counted in arrival order, the
 * replicas the matcher gave up on, how many extra replicas it asked for, and, once decided, the
 * outcome and who agreed. {@code settled} is set in the same store write that emits the
 * verdict's ledger entries, so a job is settled exactly once.
 *
 * <p>Stored as an {@link VerifierJob} record ({@code schemas/src/main/avro/verifier-state.avsc}),
 * converted here and nowhere else.
 */
public final class JobState {
    static final Serde<TaskAssigned> TASK = AgoraSerdes.plain().avroSerde(TaskAssigned.class);
    private static final Serde<JobState> SERDE = StateSerde.of(VerifierJob.class, JobState::toAvro, JobState::fromAvro,
            LegacyJobState::read);

    /** Null while only a CANCEL or REPLICA_FAILED commands have been seen (they may overtake the first task). */
    TaskAssigned first;
    boolean cancelRequested;
    /** When the first command for a job not seen yet arrived (its pending TTL runs from there). */
    long cancelSeenAt;
    boolean settled;
    Outcome outcome;
    String consensusHash;
    long decidedAt;
    /** Task ids of counted results, in arrival order. */
    final List<String> counted = new ArrayList<>();
    /**
     * When each counted result reached the verifier (wall clock; a result that waited for its task,
     * when it arrived), by task id: the end of the time the market observed, which caps what it is paid.
     */
    final Map<String, Long> receivedAt = new HashMap<>();
    /** Replicas the matcher reported failed (REPLICA_FAILED) after its attempts ran out. */
    final TreeSet<Integer> failedReplicas = new TreeSet<>();
    int extraRequested;
    final List<String> agreeing = new ArrayList<>();
    final List<String> dissenting = new ArrayList<>();
    /** First replica number of a dispute's extra replicas, -1 when never disputed. */
    int disputeFrom = -1;
    int disputeCount;
    boolean disputeResolved;
    /**
     * The dispute fee held from the client when the dispute opened: its payout or refund moves
     * exactly this, whatever the setting is when the dispute is decided.
     */
    long disputeFeeMicros;
    /** The dispute overturned the verdict: each of {@link #agreeing} was ordered SLASHed. */
    boolean overturned;
    /** What the matcher's gate took from each slashed worker (its SlashResults), in arrival order. */
    final List<SlashTaken> slashesTaken = new ArrayList<>();
    /** The settlement receipt was signed: every slashed worker's result is in. */
    boolean settlementSigned;

    /** Replicas in play: the job's redundancy plus every extra replica requested (disputes included). */
    int slots() {
        return first.getTerms().getRedundancy() + extraRequested;
    }

    boolean isDisputeReplica(int replica) {
        return disputeFrom >= 0 && replica >= disputeFrom && replica < disputeFrom + disputeCount;
    }

    /** A copy to change (the first task is never changed, so it is shared). */
    JobState copy() {
        JobState c = new JobState();
        c.first = first;
        c.cancelRequested = cancelRequested;
        c.cancelSeenAt = cancelSeenAt;
        c.settled = settled;
        c.outcome = outcome;
        c.consensusHash = consensusHash;
        c.decidedAt = decidedAt;
        c.counted.addAll(counted);
        c.receivedAt.putAll(receivedAt);
        c.failedReplicas.addAll(failedReplicas);
        c.extraRequested = extraRequested;
        c.agreeing.addAll(agreeing);
        c.dissenting.addAll(dissenting);
        c.disputeFrom = disputeFrom;
        c.disputeCount = disputeCount;
        c.disputeResolved = disputeResolved;
        c.disputeFeeMicros = disputeFeeMicros;
        c.overturned = overturned;
        c.slashesTaken.addAll(slashesTaken);
        c.settlementSigned = settlementSigned;
        return c;
    }

    /** The store's serde: {@link VerifierJob} records ({@link StateSerde}); a value of the earlier binary format is read by {@link LegacyJobState}. */
    public static Serde<JobState> serde() {
        return SERDE;
    }

    byte[] toBytes() {
        return SERDE.serializer().serialize(null, this);
    }

    VerifierJob toAvro() {
        return new VerifierJob(first == null ? null : ByteBuffer.wrap(TASK.serializer().serialize(null, first)),
                cancelRequested, cancelSeenAt, settled, outcome == null ? null : outcome.name(), consensusHash,
                decidedAt, new ArrayList<>(counted), new HashMap<>(receivedAt), new ArrayList<>(failedReplicas),
                extraRequested, new ArrayList<>(agreeing), new ArrayList<>(dissenting), disputeFrom, disputeCount,
                disputeResolved, disputeFeeMicros, overturned, new ArrayList<>(slashesTaken), settlementSigned,
                new ArrayList<>(), new ArrayList<>()); // tasks and results: JobRecord
    }

    static JobState fromAvro(VerifierJob v) {
        JobState s = new JobState();
        s.first = v.getFirst() == null ? null : TASK.deserializer().deserialize(null, bytes(v.getFirst()));
        s.cancelRequested = v.getCancelRequested();
        s.cancelSeenAt = v.getCancelSeenAt();
        s.settled = v.getSettled();
        s.outcome = v.getOutcome() == null ? null : Outcome.valueOf(v.getOutcome());
        s.consensusHash = v.getConsensusHash();
        s.decidedAt = v.getDecidedAt();
        s.counted.addAll(v.getCounted());
        s.receivedAt.putAll(v.getReceivedAt());
        s.failedReplicas.addAll(v.getFailedReplicas());
        s.extraRequested = v.getExtraRequested();
        s.agreeing.addAll(v.getAgreeing());
        s.dissenting.addAll(v.getDissenting());
        s.disputeFrom = v.getDisputeFrom();
        s.disputeCount = v.getDisputeCount();
        s.disputeResolved = v.getDisputeResolved();
        s.disputeFeeMicros = v.getDisputeFeeMicros();
        s.overturned = v.getOverturned();
        s.slashesTaken.addAll(v.getSlashesTaken());
        s.settlementSigned = v.getSettlementSigned();
        return s;
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
