package io.agora.matcher;

import io.agora.events.JobRequested;
import io.agora.events.WorkerCapabilities;
import io.agora.market.Stake;
import io.agora.schemas.AgoraSerdes;
import org.apache.avro.specific.SpecificRecord;
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
import java.nio.charset.StandardCharsets;

/**
 * Serdes of the matcher's state stores (and so of their changelog topics): an explicit binary
 * format, not Java serialization, so that a store written by one build is readable by the next.
 *
 * <p>Every value starts with a format version byte, then its fields in a fixed order
 * ({@link DataOutputStream} big-endian primitives; strings as an int byte length, -1 for null,
 * then UTF-8; enums by name, never by ordinal; embedded events ({@link JobRequested},
 * {@link WorkerCapabilities}) as an int length, -1 for null, then plain Avro
 * ({@link io.agora.schemas.AgoraSerdes#plain()}: single-object encoding, read with the writer's
 * schema from {@link io.agora.schemas.SchemaHistory}, so event schema changes are survived)). To evolve a format, append fields and bump its version; the reader keeps
 * decoding every older version (missing fields take their defaults), and refuses a version it
 * does not know with a {@link SerializationException} rather than guessing.
 */
final class StateSerdes {
    static final byte ACCOUNT_V1 = 1;
    static final byte GATE_V1 = 1;
    /** Adds the worker's stake ({@link io.agora.market.Stake.Account}). */
    static final byte GATE_V2 = 2;
    static final byte WORKER_V1 = 1;
    /** Adds the tasks the matcher knows the worker holds, its recent expired leases, its cool-down and whether it departed. */
    static final byte WORKER_V2 = 2;
    /** Worker format 3 appends the bonded stake the gate saw at the latest registration. */
    static final byte WORKER_V3 = 3;
    static final byte JOB_V1 = 1;
    /** Adds each replica's per-job minimum. */
    static final byte JOB_V2 = 2;
    /** Adds when the job's first replica started ({@code startedAt}, 0 before). */
    static final byte JOB_V3 = 3;

    private static final AgoraSerdes PLAIN = AgoraSerdes.plain();

    private StateSerdes() {
    }

    @FunctionalInterface
    interface Writer<T> {
        void write(DataOutputStream out, T value) throws IOException;
    }

    @FunctionalInterface
    interface Reader<T> {
        T read(DataInputStream in, int version) throws IOException;
    }

    static <T> Serde<T> serde(String name, byte version, Writer<T> writer, Reader<T> reader) {
        Serializer<T> ser = (topic, v) -> v == null ? null : encode(name, version, writer, v);
        Deserializer<T> de = (topic, b) -> b == null ? null : decode(name, version, reader, b);
        return Serdes.serdeFrom(ser, de);
    }

    static <T> byte[] encode(String name, byte version, Writer<T> writer, T value) {
        try {
            ByteArrayOutputStream bo = new ByteArrayOutputStream(256);
            DataOutputStream out = new DataOutputStream(bo);
            out.writeByte(version);
            writer.write(out, value);
            out.flush();
            return bo.toByteArray();
        } catch (IOException e) {
            throw new SerializationException("cannot encode " + name, e);
        }
    }

    static <T> T decode(String name, byte current, Reader<T> reader, byte[] bytes) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            int v = in.readByte();
            if (v < 1 || v > current) {
                throw new SerializationException("unknown " + name + " format version " + v + " (this build reads 1.." + current + ")");
            }
            return reader.read(in, v);
        } catch (IOException e) {
            throw new SerializationException("cannot decode " + name, e);
        }
    }

    // ---- the four stores ----------------------------------------------------------------

    static Serde<Admission.Account> account() {
        return serde("admission account", ACCOUNT_V1,
                (out, a) -> {
                    out.writeLong(a.availableMicros());
                    out.writeBoolean(a.granted());
                },
                (in, v) -> new Admission.Account(in.readLong(), in.readBoolean()));
    }

    static Serde<WorkerGateProcessor.GateState> gate() {
        return serde("worker gate state", GATE_V2,
                (out, g) -> {
                    out.writeLong(g.registrationSeq());
                    out.writeLong(g.heartbeatSeq());
                    str(out, g.pool());
                    out.writeLong(g.reputation());
                    Stake.Account a = g.stake();
                    out.writeLong(a.availableMicros());
                    out.writeLong(a.bondedMicros());
                    out.writeLong(a.unbondingMicros());
                    out.writeLong(a.unbondDueAt());
                    out.writeLong(a.unbondSeq());
                    out.writeInt(a.disputes().size());
                    for (String d : a.disputes()) {
                        str(out, d);
                    }
                },
                (in, v) -> {
                    long regSeq = in.readLong();
                    long hbSeq = in.readLong();
                    String pool = str(in);
                    long rep = in.readLong();
                    Stake.Account a = Stake.Account.NEW;
                    if (v >= GATE_V2) {
                        long available = in.readLong();
                        long bonded = in.readLong();
                        long unbonding = in.readLong();
                        long due = in.readLong();
                        long seq = in.readLong();
                        int n = in.readInt();
                        java.util.Set<String> disputes = new java.util.TreeSet<>();
                        for (int i = 0; i < n; i++) {
                            disputes.add(str(in));
                        }
                        a = new Stake.Account(available, bonded, unbonding, due, seq, disputes);
                    }
                    return new WorkerGateProcessor.GateState(regSeq, hbSeq, pool, rep, a);
                });
    }

    static Serde<PoolState.Worker> worker() {
        return serde("pool worker", WORKER_V3, (out, w) -> writeWorker(out, w, WORKER_V3), StateSerdes::readWorker);
    }

    static Serde<PoolState.Job> job() {
        return serde("pool job", JOB_V3, (out, j) -> writeJob(out, j, JOB_V3), StateSerdes::readJob);
    }

    /** Writes a worker in the given format version (older ones only for compatibility tests). */
    static void writeWorker(DataOutputStream out, PoolState.Worker w, byte version) throws IOException {
        str(out, w.workerId);
        str(out, w.pool);
        if (w.capabilities != null && w.capabilitiesEncoded != w.capabilities) {
            w.capabilitiesBytes = avroBytes(WorkerCapabilities.class, w.capabilities);
            w.capabilitiesEncoded = w.capabilities;
        }
        bytes(out, w.capabilities == null ? null : w.capabilitiesBytes);
        str(out, w.status == null ? null : w.status.name());
        str(out, w.reportedStatus);
        out.writeLong(w.lastSeenAt);
        out.writeInt(w.reportedFreeSlots);
        out.writeDouble(w.load);
        out.writeLong(w.price);
        out.writeInt(w.ownedPartitions.size());
        for (int p : w.ownedPartitions) {
            out.writeInt(p);
        }
        out.writeLong(w.reputation);
        out.writeDouble(w.avgLatencyMs);
        out.writeInt(w.pending.size());
        for (var e : w.pending.entrySet()) {
            str(out, e.getKey());
            out.writeLong(e.getValue());
        }
        if (version >= WORKER_V2) {
            out.writeInt(w.held.size());
            for (var e : w.held.entrySet()) {
                str(out, e.getKey());
                out.writeLong(e.getValue());
            }
            out.writeInt(w.expiredLeases.size());
            for (long t : w.expiredLeases) {
                out.writeLong(t);
            }
            out.writeLong(w.coolingUntil);
            out.writeBoolean(w.departed);
        }
        if (version >= WORKER_V3) {
            out.writeLong(w.stakeMicros);
        }
    }

    static PoolState.Worker readWorker(DataInputStream in, int version) throws IOException {
        PoolState.Worker w = new PoolState.Worker();
        w.workerId = str(in);
        w.pool = str(in);
        w.capabilitiesBytes = bytes(in, WorkerCapabilities.class);
        w.capabilities = w.capabilitiesBytes == null ? null : avroOf(WorkerCapabilities.class, w.capabilitiesBytes);
        w.capabilitiesEncoded = w.capabilities;
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
        if (version >= WORKER_V2) {
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
        if (version >= WORKER_V3) {
            w.stakeMicros = in.readLong();
        }
        return w;
    }

    /** Writes a job in the given format version (older ones only for compatibility tests). */
    static void writeJob(DataOutputStream out, PoolState.Job j, byte version) throws IOException {
        str(out, j.jobId);
        if (j.request != null && j.requestEncoded != j.request) {
            j.requestBytes = avroBytes(JobRequested.class, j.request);
            j.requestEncoded = j.request;
        }
        bytes(out, j.request == null ? null : j.requestBytes);
        out.writeLong(j.escrowMicros);
        str(out, j.pool);
        str(out, j.status == null ? null : j.status.name());
        out.writeLong(j.queuedAt);
        str(out, j.queueKey);
        out.writeInt(j.nextReplica);
        out.writeInt(j.replicas.size());
        for (PoolState.Replica r : j.replicas.values()) {
            out.writeInt(r.replica);
            out.writeInt(r.attempt);
            str(out, r.state == null ? null : r.state.name());
            str(out, r.workerId);
            out.writeLong(r.assignedAt);
            out.writeLong(r.leaseDeadline);
            out.writeInt(r.partition);
            out.writeLong(r.notBefore);
            str(out, r.reason);
            out.writeDouble(r.score);
            str(out, r.explain);
            out.writeLong(r.price);
            if (version >= JOB_V2) {
                out.writeLong(r.minPricePerJob);
            }
        }
        out.writeInt(j.touched.size());
        for (String w : j.touched) {
            str(out, w);
        }
        out.writeLong(j.forgetAt);
        if (version >= JOB_V3) {
            out.writeLong(j.startedAt);
        }
    }

    static PoolState.Job readJob(DataInputStream in, int version) throws IOException {
        PoolState.Job j = new PoolState.Job();
        j.jobId = str(in);
        j.requestBytes = bytes(in, JobRequested.class);
        j.request = j.requestBytes == null ? null : avroOf(JobRequested.class, j.requestBytes);
        j.requestEncoded = j.request;
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
            if (version >= JOB_V2) {
                r.minPricePerJob = in.readLong();
            }
            j.replicas.put(r.replica, r);
        }
        int t = in.readInt();
        for (int i = 0; i < t; i++) {
            j.touched.add(str(in));
        }
        j.forgetAt = in.readLong();
        if (version >= JOB_V3) {
            j.startedAt = in.readLong();
        }
        return j;
    }

    // ---- primitives ---------------------------------------------------------------------

    static void str(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    static String str(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        return new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }

    static <T extends SpecificRecord> void avro(DataOutputStream out, Class<T> type, T value) throws IOException {
        bytes(out, value == null ? null : avroBytes(type, value));
    }

    /**
     * An embedded event's plain Avro binary. The pool stage's records keep it beside the event
     * (an event is never changed once stored, only replaced), so a worker or job saved again
     * (every heartbeat, every lease renewal) does not encode its capabilities or request again.
     */
    static <T extends SpecificRecord> byte[] avroBytes(Class<T> type, T value) {
        return PLAIN.avroSerde(type).serializer().serialize("matcher-state", value);
    }

    /** Length-prefixed bytes, -1 for null: the framing of {@link #avro(DataOutputStream, Class, SpecificRecord)}. */
    static void bytes(DataOutputStream out, byte[] b) throws IOException {
        if (b == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(b.length);
        out.write(b);
    }

    static <T extends SpecificRecord> T avro(DataInputStream in, Class<T> type) throws IOException {
        byte[] b = bytes(in, type);
        return b == null ? null : avroOf(type, b);
    }

    /** The framed bytes of an embedded event of {@code type}, null for null. */
    static byte[] bytes(DataInputStream in, Class<?> type) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new IOException("truncated " + type.getSimpleName());
        }
        return b;
    }

    static <T extends SpecificRecord> T avroOf(Class<T> type, byte[] b) {
        return PLAIN.avroSerde(type).deserializer().deserialize("matcher-state", b);
    }
}
