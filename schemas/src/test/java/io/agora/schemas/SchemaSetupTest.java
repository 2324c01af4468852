package io.agora.schemas;

import io.agora.events.TaskResult;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The subjects the owner registers at stack-up: one per topic whose values are Avro records. */
class SchemaSetupTest {
    @Test
    void everyRecordTopicHasItsValueSubjectAndTheDeadLetterTopicNone() {
        assertThat(SchemaSetup.subjects()).hasSize(Topics.all().size() - 1)
                .containsEntry(Topics.RESULTS.name() + "-value", TaskResult.getClassSchema())
                .doesNotContainKey(Topics.DLQ.name() + "-value");
    }
}
