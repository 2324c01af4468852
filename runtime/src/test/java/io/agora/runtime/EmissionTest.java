package io.agora.runtime;

import io.agora.events.CommandType;
import io.agora.events.JobCommand;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Topics;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EmissionTest {
    private final AgoraSerdes serdes = AgoraSerdes.plain();
    private final Serializer<Object> sink = Emission.serde(serdes).serializer();

    @Test
    void eachRecordIsWrittenWithItsTopicsSerdeAndADeadLetterUntouched() {
        JobCommand c = JobCommand.newBuilder().setEventId("e").setJobId("j").setClientId("c").setType(CommandType.CANCEL)
                .setTimestamp(Instant.EPOCH).build();
        String topic = Topics.JOB_COMMANDS.name();
        assertThat(sink.serialize(topic, Emission.of(topic, c)))
                .isEqualTo(serdes.valueSerde(Topics.JOB_COMMANDS).serializer().serialize(topic, c));
        assertThat(sink.serialize(Topics.DLQ.name(), Emission.deadLetter(new byte[]{7, 8}))).containsExactly(7, 8);
        assertThat(Emission.deadLetter(new byte[0]).topic()).isEqualTo(Topics.DLQ.name());
    }

    @Test
    void anythingElseIsRefused() {
        assertThatThrownBy(() -> sink.serialize("agora.nowhere", Emission.of("agora.nowhere", new JobCommand())))
                .isInstanceOf(SerializationException.class);
        assertThatThrownBy(() -> sink.serialize(Topics.JOB_COMMANDS.name(), "not an emission"))
                .isInstanceOf(SerializationException.class);
    }

    @Test
    void anExplicitPartitionIsKeptWhenTheTopicHasIt() {
        var p = Emission.<Emission>partitioner();
        assertThat(p.partitions("t", "w", new Emission.Of("t", null, null, 17), 24)).isEqualTo(Optional.of(Set.of(17)));
        assertThat(p.partitions("t", "w", new Emission.Of("t", null, null, 24), 24)).isEmpty();
        assertThat(p.partitions("t", "j", Emission.of("t", null), 24)).isEmpty();
    }
}
