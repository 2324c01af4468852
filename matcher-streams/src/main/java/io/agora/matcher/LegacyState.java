package io.agora.matcher;

import io.agora.events.Heartbeat;
import io.agora.events.JobCommand;
import io.agora.events.JobRequested;
import io.agora.events.WorkerCapabilities;
import io.agora.events.WorkerRegistration;
import io.agora.market.Stake;
import org.apache.kafka.common.errors.SerializationException;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.TreeSet;

/**
 * LEGACY, read-only: the matcher's store values and pool events as the hand-written binary codecs
 * of the builds before the state became Avro wrote them (a format version byte, or a pool event's
 * tag byte, then the fields, big-endian; embedded events length-prefixed plain Avro). Read once:
 * every write is Avro ({@link StateSerdes}), a store value is rewritten at its next change and a
 * repartition record is consumed once. Delete this class when no store or topic can hold such a
 * value any more.
 */
final class LegacyState {
    private LegacyState() {
    }

    @FunctionalInterface
    private interface Reader<T> {
        T read(DataInputStream in, int version) throws IOException;
    }

    /** Format versions: account 1; gate 1, 2 (stake); worker 1, 2 (held, expired leases, cool-down, departed); job 1, 2 (per-job minimum), 3 (startedAt). */
    private static <T> T read(String name, int newest, byte[] b, Reader<T> reader) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
            int v = in.readByte();
            if (v < 1 || v > newest) {
                throw new SerializationException("unknown " + name + " format version " + v + " (this build reads 1.." + newest + ")");
            }
            return reader.read(in, v);
        } catch (IOException e) {
            throw new SerializationException("cannot decode legacy " + name, e);
        }
    }

    static Admission.Account account(byte[] b) {
        return read("admission account", 1, b, (in, v) -> new Admission.Account(in.readLong(), in.readBoolean()));
    }

    static WorkerGateProcessor.GateState gate(byte[] b) {
        return read("worker gate state", 2, b, (in, v) -> {
            long regSeq = in.readLong();
            long hbSeq = in.readLong();
            String pool = str(in);
            long rep = in.readLong();
            Stake.Account a = Stake.Account.NEW;
            if (v >= 2) {
                long available = in.readLong();
                long bonded = in.readLong();
                long unbonding = in.readLong();
                long due = in.readLong();
                long seq = in.readLong();
                int n = in.readInt();
                Set<String> disputes = new TreeSet<>();
                for (int i = 0; i < n; i++) {
                    disputes.add(str(in));
                }
                a = new Stake.Account(available, bonded, unbonding, due, seq, disputes);
            }
            return new WorkerGateProcessor.GateState(regSeq, hbSeq, pool, rep, a);
        });
    }

    static PoolState.Worker worker(byte[] b) {
        return read("pool worker", 2, b, (in, v) -> {
            PoolState.Worker w = new PoolState.Worker();
            w.workerId = str(in);
            w.pool = str(in);
            byte[] caps = bytes(in);
            w.capabilities = caps == null ? null : StateSerdes.event(WorkerCapabilities.class, caps);
            String status = str(in);
            w.status = status == null ? null : PoolState.Status.valueOf(status);
            w.reportedStatus = str(in);
            w.lastSeenAt = in.readLong();
            w.reportedFreeSlots = in.readInt();
            w.load = in.readDouble();
            w.price = in.readLong();
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                w.ownedPartitions.add(in.readInt());
            }
            w.reputation = in.readLong();
            w.avgLatencyMs = in.readDouble();
            int p = in.readInt();
            for (int i = 0; i < p; i++) {
                w.pending.put(str(in), in.readLong());
            }
            if (v >= 2) {
                int h = in.readInt();
                for (int i = 0; i < h; i++) {
                    w.held.put(str(in), in.readLong());
                }
                int e = in.readInt();
                for (int i = 0; i < e; i++) {
                    w.expiredLeases.add(in.readLong());
                }
                w.coolingUntil = in.readLong();
                w.departed = in.readBoolean();
            }
            return w;
        });
    }

    static PoolState.Job job(byte[] b) {
        return read("pool job", 3, b, (in, v) -> {
            PoolState.Job j = new PoolState.Job();
            j.jobId = str(in);
            byte[] request = bytes(in);
            j.request = request == null ? null : StateSerdes.event(JobRequested.class, request);
            j.escrowMicros = in.readLong();
            j.pool = str(in);
            String status = str(in);
            j.status = status == null ? null : PoolState.JobStatus.valueOf(status);
            j.queuedAt = in.readLong();
            j.queueKey = str(in);
            j.nextReplica = in.readInt();
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                PoolState.Replica r = new PoolState.Replica();
                r.replica = in.readInt();
                r.attempt = in.readInt();
                String state = str(in);
                r.state = state == null ? null : PoolState.ReplicaState.valueOf(state);
                r.workerId = str(in);
                r.assignedAt = in.readLong();
                r.leaseDeadline = in.readLong();
                r.partition = in.readInt();
                r.notBefore = in.readLong();
                r.reason = str(in);
                r.score = in.readDouble();
                r.explain = str(in);
                r.price = in.readLong();
                if (v >= 2) {
                    r.minPricePerJob = in.readLong();
                }
                j.replicas.put(r.replica, r);
            }
            int t = in.readInt();
            for (int i = 0; i < t; i++) {
                j.touched.add(str(in));
            }
            j.forgetAt = in.readLong();
            if (v >= 3) {
                j.startedAt = in.readLong();
            }
            return j;
        });
    }

    /** A pool event of the repartition topic: a tag byte (1..7), then its fields. */
    static Flow.PoolEvent poolEvent(byte[] b) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
            int tag = in.readByte();
            return switch (tag) {
                case 1 -> new Flow.Admitted(StateSerdes.event(JobRequested.class, bytes(in)), in.readLong());
                case 2 -> new Flow.Registered(StateSerdes.event(WorkerRegistration.class, bytes(in)), in.readLong());
                case 3 -> new Flow.Removed(in.readUTF());
                case 4 -> new Flow.Beat(StateSerdes.event(Heartbeat.class, bytes(in)));
                case 5 -> new Flow.Reputation(in.readUTF(), in.readLong());
                case 6 -> new Flow.Result(in.readUTF(), in.readUTF(), in.readUTF(), in.readInt(), in.readInt(),
                        in.readUTF(), in.readLong());
                case 7 -> new Flow.Command(StateSerdes.event(JobCommand.class, bytes(in)));
                default -> throw new SerializationException("unknown pool event tag " + tag);
            };
        } catch (IOException e) {
            throw new SerializationException("cannot decode legacy pool event", e);
        }
    }

    /** A string: int byte length, -1 for null, then UTF-8. */
    private static String str(DataInputStream in) throws IOException {
        byte[] b = bytes(in);
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /** Int length, -1 for null, then the bytes. */
    private static byte[] bytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new IOException("truncated value");
        }
        return b;
    }
}
