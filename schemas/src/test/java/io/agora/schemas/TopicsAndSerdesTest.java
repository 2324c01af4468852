package io.agora.schemas;

import io.agora.events.TaskResult;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

import java.util.HashSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TopicsAndSerdesTest {

    @Test
    void everyTopicIsDeclaredOnceWithAPolicy() {
        var names = new HashSet<String>();
        for (TopicSpec<?, ?> t : Topics.all()) {
            assertThat(names.add(t.name())).as("duplicate " + t.name()).isTrue();
            assertThat(t.name()).startsWith("agora.");
            assertThat(t.config()).containsKey("cleanup.policy");
        }
        assertThat(Topics.REGISTRATIONS.config()).containsEntry("cleanup.policy", "compact")
                .containsEntry("message.timestamp.type", "LogAppendTime");
        assertThat(Topics.HEARTBEATS.config()).doesNotContainKey("message.timestamp.type");
        assertThat(Topics.LEDGER.config()).containsEntry("retention.ms", "-1");
    }

    @Test
    void keyedTopicsAreCoPartitioned() {
        assertThat(Topics.JOB_REQUESTS.partitions()).isEqualTo(Topics.LEDGER.partitions());
        assertThat(Topics.RESULTS.partitions()).isEqualTo(Topics.JOB_COMMANDS.partitions());
    }

    @Test
    void registrySerdesKeepTheirCachedSchemasThroughARegistryOutage() {
        assertThat(AgoraSerdes.forRegistryUrl("http://localhost:1/apis/registry/v2").registryProperties())
                .containsEntry("apicurio.registry.fault-tolerant-refresh", "true");
    }

    @Test
    void plainSerdeRoundTripsAndRefusesGarbage() {
        Serde<TaskResult> serde = AgoraSerdes.plain().valueSerde(Topics.RESULTS);
        TaskResult r = Fixtures.result("j", "w", 0, 1, "out");
        byte[] bytes = serde.serializer().serialize(Topics.RESULTS.name(), r);
        assertThat(serde.deserializer().deserialize(Topics.RESULTS.name(), bytes)).isEqualTo(r);
        assertThatThrownBy(() -> serde.deserializer().deserialize(Topics.RESULTS.name(), new byte[]{1, 2, 3}))
                .isInstanceOf(SerializationException.class);
    }
}
