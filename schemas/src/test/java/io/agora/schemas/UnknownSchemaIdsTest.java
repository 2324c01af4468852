package io.agora.schemas;

import io.agora.events.TaskResult;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static io.agora.schemas.OutageTest.registryError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchException;

/** Whose fault a registry record that cannot be read is: the header's, the registry's for a while, then the record's. */
class UnknownSchemaIdsTest {
    static final long GRACE = 60_000;
    final UnknownSchemaIds ids = new UnknownSchemaIds(GRACE);

    static RuntimeException notFound() {
        return new SerializationException("cannot deserialize", registryError("ContentNotFoundException", 404));
    }

    @Test
    void anIdTheRegistryDoesNotKnowIsAnOutageWithinTheGraceThenTheRecordsFault() {
        RuntimeException first = ids.judge(7, notFound(), 1_000);
        RuntimeException later = ids.judge(7, notFound(), 1_000 + GRACE - 1);
        RuntimeException after = ids.judge(7, notFound(), 1_000 + GRACE);

        assertThat(Outage.of(first)).hasValueSatisfying(s -> assertThat(s)
                .isEqualTo("the schema registry does not know schema id 7 yet (asked for 0 s, dead-lettered after 60 s)"));
        assertThat(Outage.isOutage(later)).isTrue();
        assertThat(Outage.isOutage(after)).isFalse();
        assertThat(after).isInstanceOf(SerializationException.class).hasMessage("schema id 7 unknown to the registry for 60 s");
    }

    @Test
    void eachIdHasItsOwnGraceAndAnAnswerStartsItAgain() {
        ids.judge(7, notFound(), 0);
        assertThat(Outage.isOutage(ids.judge(8, notFound(), GRACE))).as("8 first seen now").isTrue();
        ids.known(7);
        assertThat(Outage.isOutage(ids.judge(7, notFound(), GRACE + 5))).as("7 answered in between").isTrue();
    }

    @Test
    void otherFailuresAreLeftToOutage() {
        RuntimeException unreachable = new SerializationException(registryError("ConnectException", null));
        RuntimeException badBytes = new SerializationException("cannot decode");
        assertThat(ids.judge(7, unreachable, 0)).isSameAs(unreachable);
        assertThat(ids.judge(7, badBytes, 0)).isSameAs(badBytes);
        assertThat(Outage.isOutage(ids.judge(7, unreachable, 10 * GRACE))).isTrue();
    }

    @Test
    void aFloodOfForgedIdsKeepsTheTrackingBounded() {
        for (int id = 1; id <= 5_000; id++) {
            assertThat(Outage.isOutage(ids.judge(id, notFound(), id))).isTrue();
        }
        assertThat(Outage.isOutage(ids.judge(5_000, notFound(), 5_000 + GRACE))).isFalse();
    }

    @Test
    void aRecordWithoutTheHeaderOrWithAnImpossibleIdIsTheRecordsFaultInPlainWords() {
        assertThat(UnknownSchemaIds.headerProblem("this is not an avro record".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("not a registry record: first byte 0x74, not the magic byte 0x00");
        assertThat(UnknownSchemaIds.headerProblem(new byte[]{0, 0, 0, 1})).startsWith("not a registry record: 4 bytes");
        byte[] wire = ByteBuffer.allocate(6).put((byte) 0).putInt(-3).put((byte) 2).array();
        assertThat(UnknownSchemaIds.headerProblem(wire)).isNull();
        assertThat(UnknownSchemaIds.id(wire)).isEqualTo(-3);
        assertThat(UnknownSchemaIds.idProblem(-3)).isEqualTo("schema id -3 in the header: the registry's ids start at 1");
        assertThat(UnknownSchemaIds.idProblem(1)).isNull();
    }

    @Test
    void theRegistryReaderRefusesARecordWithoutTheHeaderWithoutAskingTheRegistry() {
        // port 1: nothing listens; a record that asked the registry would fail as an outage instead
        Deserializer<TaskResult> reader = AgoraSerdes.registry("http://127.0.0.1:1/apis/registry/v2")
                .valueSerde(Topics.RESULTS).deserializer();
        Exception failure = catchException(() -> reader.deserialize(Topics.RESULTS.name(),
                "this is not an avro record".getBytes(StandardCharsets.UTF_8)));

        assertThat(failure).isInstanceOf(SerializationException.class)
                .hasMessage("not a registry record: first byte 0x74, not the magic byte 0x00 on agora.jobs.results");
        assertThat(Outage.isOutage(failure)).isFalse();
    }
}
