package io.agora.ingest.jobs;

import io.agora.events.JobRequested;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The fingerprint of a request under an Idempotency-Key: what the client asked for, nothing else. */
class IdempotencyKeysTest {
    private static SubmitJob job(List<String> command, Map<String, String> env) {
        return new SubmitJob("busybox", command, env, 2000L, null, null, null, null, null, 3, 2, null, null, null,
                null, null, null, 10L, null, null, null, null);
    }

    private static JobRequested event(SubmitJob j, String eventId, Instant at) {
        return JobRequestRules.toEvent(j, "job-1", "c-1", "order-42", eventId, at);
    }

    @Test
    void theSameRequestGivesTheSameHashWhateverTheEventIdTimeOrEnvOrder() {
        Map<String, String> ab = new LinkedHashMap<>();
        ab.put("A", "1");
        ab.put("B", "2");
        Map<String, String> ba = new LinkedHashMap<>();
        ba.put("B", "2");
        ba.put("A", "1");
        String first = IdempotencyKeys.fingerprint(event(job(List.of("echo", "hi"), ab), "e1", Instant.parse("2026-01-01T00:00:00Z")));
        String again = IdempotencyKeys.fingerprint(event(job(List.of("echo", "hi"), ba), "e2", Instant.parse("2026-01-02T00:00:00Z")));
        assertThat(first).hasSize(64).isEqualTo(again);
    }

    @Test
    void aDifferentRequestGivesAnotherHash() {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        String hi = IdempotencyKeys.fingerprint(event(job(List.of("echo", "hi"), Map.of()), "e1", t));
        String bye = IdempotencyKeys.fingerprint(event(job(List.of("echo", "bye"), Map.of()), "e1", t));
        String env = IdempotencyKeys.fingerprint(event(job(List.of("echo", "hi"), Map.of("X", "1")), "e1", t));
        assertThat(hi).isNotEqualTo(bye).isNotEqualTo(env);
    }
}
