package io.agora.verifier;

import io.agora.events.Outcome;
import io.agora.events.TaskAssigned;
import io.agora.schemas.AgoraSerdes;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
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
 * <p>Stored in a small versioned binary form (not an Avro class: generated classes outside
 * {@code io.agora.events} are not trusted for deserialisation), the first task as plain Avro.
 */
public final class JobState {
    /** 2 appends {@link #receivedAt}; a version-1 record reads with none known. */
    private static final byte VERSION = 2;
    private static final Serde<TaskAssigned> TASK = AgoraSerdes.plain().avroSerde(TaskAssigned.class);

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
        return c;
    }

    public static Serde<JobState> serde() {
        Serializer<JobState> ser = (topic, s) -> s == null ? null : s.toBytes();
        Deserializer<JobState> de = (topic, b) -> b == null ? null : fromBytes(b);
        return Serdes.serdeFrom(ser, de);
    }

    byte[] toBytes() {
        try {
            ByteArrayOutputStream bos = new ByteArrayOutputStream(512);
            DataOutputStream out = new DataOutputStream(bos);
            out.writeByte(VERSION);
            byte[] task = first == null ? null : TASK.serializer().serialize(null, first);
            out.writeInt(task == null ? -1 : task.length);
            if (task != null) {
                out.write(task);
            }
            out.writeBoolean(cancelRequested);
            out.writeLong(cancelSeenAt);
            out.writeBoolean(settled);
            writeNullable(out, outcome == null ? null : outcome.name());
            writeNullable(out, consensusHash);
            out.writeLong(decidedAt);
            writeList(out, counted);
            out.writeInt(failedReplicas.size());
            for (int r : failedReplicas) {
                out.writeInt(r);
            }
            out.writeInt(extraRequested);
            writeList(out, agreeing);
            writeList(out, dissenting);
            out.writeInt(disputeFrom);
            out.writeInt(disputeCount);
            out.writeBoolean(disputeResolved);
            for (String taskId : counted) {
                out.writeLong(receivedAt.getOrDefault(taskId, -1L));
            }
            out.flush();
            return bos.toByteArray();
        } catch (IOException e) {
            throw new SerializationException("cannot encode job state", e);
        }
    }

    static JobState fromBytes(byte[] b) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
            byte v = in.readByte();
            if (v != 1 && v != VERSION) {
                throw new SerializationException("unknown job state version " + v);
            }
            JobState s = new JobState();
            int len = in.readInt();
            if (len >= 0) {
                byte[] task = in.readNBytes(len);
                s.first = TASK.deserializer().deserialize(null, task);
            }
            s.cancelRequested = in.readBoolean();
            s.cancelSeenAt = in.readLong();
            s.settled = in.readBoolean();
            String o = readNullable(in);
            s.outcome = o == null ? null : Outcome.valueOf(o);
            s.consensusHash = readNullable(in);
            s.decidedAt = in.readLong();
            readList(in, s.counted);
            int f = in.readInt();
            for (int i = 0; i < f; i++) {
                s.failedReplicas.add(in.readInt());
            }
            s.extraRequested = in.readInt();
            readList(in, s.agreeing);
            readList(in, s.dissenting);
            s.disputeFrom = in.readInt();
            s.disputeCount = in.readInt();
            s.disputeResolved = in.readBoolean();
            if (v >= 2) {
                for (String taskId : s.counted) {
                    long at = in.readLong();
                    if (at >= 0) {
                        s.receivedAt.put(taskId, at);
                    }
                }
            }
            return s;
        } catch (IOException e) {
            throw new SerializationException("cannot decode job state", e);
        }
    }

    private static void writeNullable(DataOutputStream out, String s) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) {
            out.writeUTF(s);
        }
    }

    private static String readNullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }

    private static void writeList(DataOutputStream out, List<String> l) throws IOException {
        out.writeInt(l.size());
        for (String s : l) {
            out.writeUTF(s);
        }
    }

    private static void readList(DataInputStream in, List<String> l) throws IOException {
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            l.add(in.readUTF());
        }
    }
}
