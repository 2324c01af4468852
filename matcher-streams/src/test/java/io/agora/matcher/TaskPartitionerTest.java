package io.agora.matcher;

import io.agora.events.JobEvent;
import io.agora.runtime.Emission;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class TaskPartitionerTest {
    @Test
    void tasksGoToTheirExplicitPartitionOthersToTheDefault() {
        var p = Emission.<Flow>partitioner();
        Flow task = new Flow.Emit("agora.jobs.tasks", null, null, 17);
        assertThat(p.partitions("agora.jobs.tasks", "w", task, 24)).isEqualTo(Optional.of(Set.of(17)));
        Flow event = Flow.Emit.of("agora.jobs.events", new JobEvent());
        assertThat(p.partitions("agora.jobs.events", "j", event, 6)).isEmpty();
    }

    @Test
    void aPartitionTheTopicLacksIsNeverHandedToKafka() {
        var p = Emission.<Flow>partitioner();
        assertThat(p.partitions("agora.jobs.tasks", "w", new Flow.Emit("agora.jobs.tasks", null, null, -1), 24)).isEmpty();
        assertThat(p.partitions("agora.jobs.tasks", "w", new Flow.Emit("agora.jobs.tasks", null, null, 24), 24)).isEmpty();
    }
}
