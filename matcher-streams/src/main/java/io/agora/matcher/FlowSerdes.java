package io.agora.matcher;

import io.agora.events.Heartbeat;
import io.agora.events.JobCommand;
import io.agora.events.JobRequested;
import io.agora.events.WorkerRegistration;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.TopicSpec;
import io.agora.schemas.Topics;
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
import java.util.HashMap;
import java.util.Map;

/**
 * Serdes of the matcher's own flows.
 * <ul>
 *   <li>{@link #emitSerializer}: writes an {@link Flow.Emit} with the value serde of its topic
 *   from the catalogue (so with the registry in production), or its raw bytes for the DLQ.</li>
 *   <li>{@link #poolEventSerde}: the internal repartition topic's format, a tag byte followed by
 *   the fields; embedded events are plain Avro ({@link io.agora.schemas.AgoraSerdes#plain()}, with
 *   the writer schema's fingerprint; the topic is internal to this app, so it needs no registry).</li>
 * </ul>
 */
public final class FlowSerdes {
    private static final AgoraSerdes PLAIN = AgoraSerdes.plain();

    private FlowSerdes() {
    }

    public static Serializer<Flow> emitSerializer(AgoraSerdes serdes) {
        Map<String, Serializer<SpecificRecord>> byTopic = new HashMap<>();
        for (TopicSpec<?, ?> t : Topics.all()) {
            if (t.valueType() != byte[].class) {
                @SuppressWarnings("unchecked")
                Serializer<SpecificRecord> s = (Serializer<SpecificRecord>) serdes.valueSerde(t).serializer();
                byTopic.put(t.name(), s);
            }
        }
        return (topic, flow) -> {
            if (!(flow instanceof Flow.Emit e)) {
                throw new SerializationException("not an emit: " + flow);
            }
            if (e.raw() != null) {
                return e.raw();
            }
            Serializer<SpecificRecord> s = byTopic.get(topic);
            if (s == null) {
                throw new SerializationException("no serde for topic " + topic);
            }
            return s.serialize(topic, e.value());
        };
    }

    public static Serde<Flow.PoolEvent> poolEventSerde() {
        Serializer<Flow.PoolEvent> ser = (topic, ev) -> ev == null ? null : encode(ev);
        Deserializer<Flow.PoolEvent> de = (topic, bytes) -> bytes == null ? null : decode(bytes);
        return Serdes.serdeFrom(ser, de);
    }

    static byte[] encode(Flow.PoolEvent ev) {
        try {
            ByteArrayOutputStream bo = new ByteArrayOutputStream(256);
            DataOutputStream out = new DataOutputStream(bo);
            if (ev instanceof Flow.Admitted a) {
                out.writeByte(1);
                avro(out, JobRequested.class, a.job());
                out.writeLong(a.escrowMicros());
            } else if (ev instanceof Flow.Registered r) {
                out.writeByte(2);
                avro(out, WorkerRegistration.class, r.registration());
                out.writeLong(r.reputation());
            } else if (ev instanceof Flow.Removed r) {
                out.writeByte(3);
                out.writeUTF(r.workerId());
            } else if (ev instanceof Flow.Beat b) {
                out.writeByte(4);
                avro(out, Heartbeat.class, b.heartbeat());
            } else if (ev instanceof Flow.Reputation r) {
                out.writeByte(5);
                out.writeUTF(r.workerId());
                out.writeLong(r.reputation());
            } else if (ev instanceof Flow.Result r) {
                out.writeByte(6);
                out.writeUTF(r.taskId());
                out.writeUTF(r.jobId());
                out.writeUTF(r.workerId());
                out.writeInt(r.replica());
                out.writeInt(r.attempt());
                out.writeUTF(r.status());
                out.writeLong(r.durationMs());
            } else if (ev instanceof Flow.Command c) {
                out.writeByte(7);
                avro(out, JobCommand.class, c.command());
            }
            out.flush();
            return bo.toByteArray();
        } catch (IOException e) {
            throw new SerializationException("cannot encode pool event", e);
        }
    }

    static Flow.PoolEvent decode(byte[] bytes) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            int tag = in.readByte();
            return switch (tag) {
                case 1 -> new Flow.Admitted(avro(in, JobRequested.class), in.readLong());
                case 2 -> new Flow.Registered(avro(in, WorkerRegistration.class), in.readLong());
                case 3 -> new Flow.Removed(in.readUTF());
                case 4 -> new Flow.Beat(avro(in, Heartbeat.class));
                case 5 -> new Flow.Reputation(in.readUTF(), in.readLong());
                case 6 -> new Flow.Result(in.readUTF(), in.readUTF(), in.readUTF(), in.readInt(), in.readInt(),
                        in.readUTF(), in.readLong());
                case 7 -> new Flow.Command(avro(in, JobCommand.class));
                default -> throw new SerializationException("unknown pool event tag " + tag);
            };
        } catch (IOException e) {
            throw new SerializationException("cannot decode pool event", e);
        }
    }

    private static <T extends SpecificRecord> void avro(DataOutputStream out, Class<T> type, T value) throws IOException {
        byte[] b = PLAIN.avroSerde(type).serializer().serialize("internal", value);
        out.writeInt(b.length);
        out.write(b);
    }

    private static <T extends SpecificRecord> T avro(DataInputStream in, Class<T> type) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return PLAIN.avroSerde(type).deserializer().deserialize("internal", b);
    }
}
