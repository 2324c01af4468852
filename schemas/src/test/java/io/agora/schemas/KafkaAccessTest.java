package io.agora.schemas;

import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.PatternType;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The trust model of the gate's slash results: the verifier signs money receipts from them. */
class KafkaAccessTest {
    @Test
    void onlyTheMatcherWritesSlashResultsAndOnlyTheVerifierReadsThem() {
        assertThat(KafkaAccess.SERVICES.entrySet().stream().filter(e -> e.getValue().writes().contains(Topics.SLASHES))
                .map(Map.Entry::getKey)).containsExactly("matcher");
        assertThat(KafkaAccess.SERVICES.entrySet().stream().filter(e -> e.getValue().reads().contains(Topics.SLASHES))
                .map(Map.Entry::getKey)).containsExactly("verifier");
        assertThat(KafkaAccess.WORKER.writes()).doesNotContain(Topics.SLASHES);
        assertThat(KafkaAccess.WORKER.reads()).doesNotContain(Topics.SLASHES);
        assertThat(KafkaAccess.bindings("matcher", KafkaAccess.SERVICES.get("matcher"))).anySatisfy(b -> {
            assertThat(b.pattern().name()).isEqualTo("agora.jobs.slashes");
            assertThat(b.pattern().patternType()).isEqualTo(PatternType.LITERAL);
            assertThat(b.entry().operation()).isEqualTo(AclOperation.WRITE);
            assertThat(b.entry().principal()).isEqualTo("User:matcher");
        });
    }
}
