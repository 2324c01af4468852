package io.agora.schemas;

import io.agora.events.JobTerms;
import io.agora.events.Strategy;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Plain Avro (state stores, changelogs, internal topics) survives a schema change: what an
 * earlier build wrote, with or without the single-object header, is read by this one; and no
 * record's schema changes without its previous version in the history.
 */
class SchemaHistoryTest {
    private final Serde<TaskAssigned> serde = AgoraSerdes.plain().avroSerde(TaskAssigned.class);

    private static TaskAssigned task() {
        JobTerms terms = JobTerms.newBuilder().setClientId("c").setPool("public").setRedundancy(3).setQuorum(2)
                .setStrategy(Strategy.K_OF_N).setMaxTotalResults(5).setMaxPricePerCpuSecondMicros(1000)
                .setEscrowMicros(150_000).setSubmittedAt(Instant.ofEpochMilli(1_000)).setDeadline(Instant.ofEpochMilli(61_000))
                .build();
        return TaskAssigned.newBuilder().setEventId("e1").setTaskId("j/0/0").setJobId("j").setWorkerId("w")
                .setReplica(0).setAttempt(0).setSpec(Fixtures.spec("echo", "hi")).setTerms(terms)
                .setPricePerCpuSecondMicros(800).setMinPricePerJobMicros(2_500)
                .setLeaseDeadline(Instant.ofEpochMilli(16_000)).setScore(0.9).setExplain("cap=1.00")
                .setAssignedAt(Instant.ofEpochMilli(1_000)).build();
    }

    /** The task as version 1 of the schema holds it: everything but the per-job minimum. */
    private static GenericRecord asVersion1(TaskAssigned t) throws Exception {
        Schema v1 = SchemaHistory.of(TaskAssigned.getClassSchema().getFullName()).get(0);
        byte[] current = bare(t, TaskAssigned.getClassSchema());
        // resolve the current bytes into the old shape: exactly what the old build held in memory
        return new org.apache.avro.generic.GenericDatumReader<GenericRecord>(TaskAssigned.getClassSchema(), v1)
                .read(null, DecoderFactory.get().binaryDecoder(current, null));
    }

    private static byte[] bare(TaskAssigned t, Schema schema) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
        new SpecificDatumWriter<TaskAssigned>(schema).write(t, enc);
        enc.flush();
        return out.toByteArray();
    }

    @Test
    void plainRecordsCarryTheSingleObjectHeaderAndRoundTrip() {
        byte[] bytes = serde.serializer().serialize("t", task());
        assertThat(bytes[0]).isEqualTo((byte) 0xC3);
        assertThat(bytes[1]).isEqualTo((byte) 0x01);
        assertThat(serde.deserializer().deserialize("t", bytes)).isEqualTo(task());
    }

    @Test
    void aTaskWrittenByTheBuildBeforeThePerJobMinimumIsStillRead() throws Exception {
        GenericRecord old = asVersion1(task());
        TaskAssigned expected = TaskAssigned.newBuilder(task()).setMinPricePerJobMicros(0).build();

        // bare binary: what the stores and the repartition topic held before the header
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(old.getSchema()).write(old, enc);
        enc.flush();
        assertThat(serde.deserializer().deserialize("t", out.toByteArray())).isEqualTo(expected);

        // single-object encoded with the old schema: what a build with the header but the old schema writes
        byte[] framed = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), old.getSchema()).encode(old).array();
        assertThat(serde.deserializer().deserialize("t", framed)).isEqualTo(expected);
    }

    @Test
    void aRecordThatNeverChangedIsReadBareToo() throws Exception {
        TaskResult r = Fixtures.result("j", "w", 0, 0, "hi\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
        new SpecificDatumWriter<TaskResult>(TaskResult.getClassSchema()).write(r, enc);
        enc.flush();
        assertThat(AgoraSerdes.plain().avroSerde(TaskResult.class).deserializer().deserialize("t", out.toByteArray()))
                .isEqualTo(r);
    }

    @Test
    void unknownSchemasAndGarbageAreRefused() {
        byte[] bytes = serde.serializer().serialize("t", task());
        bytes[5] ^= 0x55; // another fingerprint: a schema this build has never seen
        assertThatThrownBy(() -> serde.deserializer().deserialize("t", bytes)).isInstanceOf(SerializationException.class);
        assertThatThrownBy(() -> serde.deserializer().deserialize("t", new byte[]{1, 2, 3}))
                .isInstanceOf(SerializationException.class);
    }

    @Test
    void everyEarlierSchemaIsReadableByTheCurrentOne() throws Exception {
        for (Map.Entry<String, Schema> e : currentRecords().entrySet()) {
            for (Schema earlier : SchemaHistory.of(e.getKey())) {
                assertThat(SchemaCompatibility.checkReaderWriterCompatibility(e.getValue(), earlier).getType())
                        .as(e.getKey() + " reads its earlier version").isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
                assertThat(SchemaHistory.fingerprint(earlier)).isNotEqualTo(SchemaHistory.fingerprint(e.getValue()));
            }
        }
    }

    @Test
    void noRecordChangesWithoutItsPreviousSchemaInTheHistory() throws Exception {
        Map<String, Long> known = new TreeMap<>();
        for (String line : Files.readAllLines(Path.of("src/test/resources/avro-fingerprints.txt"))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                String[] f = line.trim().split("\\s+");
                known.put(f[0], Long.parseLong(f[1]));
            }
        }
        List<String> changed = new ArrayList<>();
        for (Map.Entry<String, Schema> e : currentRecords().entrySet()) {
            if (!Long.valueOf(SchemaHistory.fingerprint(e.getValue())).equals(known.get(e.getKey()))) {
                changed.add(e.getKey() + " " + SchemaHistory.fingerprint(e.getValue()));
            }
        }
        assertThat(changed).as("records whose schema changed: add the previous schema to src/main/resources/avro-history"
                + " (see its README) and the new fingerprint to src/test/resources/avro-fingerprints.txt").isEmpty();
        assertThat(known.keySet()).containsExactlyInAnyOrderElementsOf(currentRecords().keySet());
    }

    private static Map<String, Schema> currentRecords() throws Exception {
        Schema.Parser p = new Schema.Parser();
        p.parse(Files.readString(Path.of("src/main/avro/common.avsc")));
        p.parse(Files.readString(Path.of("src/main/avro/events.avsc")));
        // the streams apps' state records (StateSerde)
        p.parse(Files.readString(Path.of("src/main/avro/matcher-state.avsc")));
        p.parse(Files.readString(Path.of("src/main/avro/verifier-state.avsc")));
        Map<String, Schema> out = new TreeMap<>();
        p.getTypes().forEach((name, s) -> {
            if (s.getType() == Schema.Type.RECORD) {
                out.put(name, s);
            }
        });
        return out;
    }
}
