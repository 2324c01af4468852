package io.agora.verifier;

import io.agora.events.Outcome;
import io.agora.market.MarketRules;
import org.apache.kafka.common.errors.SerializationException;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.List;

/**
 * LEGACY, read-only: a {@code verifier-jobs} value written by the hand-written binary codec of the
 * builds before the state became Avro (a version byte 1 or 2, then the fields). Read once: the job's
 * next change writes it as Avro, and decided jobs are dropped after retention. Delete this class
 * when no store can hold such a value any more.
 */
final class LegacyJobState {
    private LegacyJobState() {
    }

    static JobState read(byte[] b) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
            byte v = in.readByte();
            if (v != 1 && v != 2) {
                throw new SerializationException("unknown job state version " + v);
            }
            JobState s = new JobState();
            int len = in.readInt();
            if (len >= 0) {
                s.first = JobState.TASK.deserializer().deserialize(null, in.readNBytes(len));
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
            if (s.disputeFrom >= 0) { // the builds that wrote this format held the fixed fee
                s.disputeFeeMicros = MarketRules.DISPUTE_FEE_MICROS;
            }
            if (v >= 2) { // version 2 appended when each counted result arrived (-1 unknown)
                for (String taskId : s.counted) {
                    long at = in.readLong();
                    if (at >= 0) {
                        s.receivedAt.put(taskId, at);
                    }
                }
            }
            return s;
        } catch (IOException e) {
            throw new SerializationException("cannot decode legacy job state", e);
        }
    }

    private static String readNullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }

    private static void readList(DataInputStream in, List<String> l) throws IOException {
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            l.add(in.readUTF());
        }
    }
}
