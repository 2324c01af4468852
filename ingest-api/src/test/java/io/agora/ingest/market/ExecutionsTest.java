package io.agora.ingest.market;

import io.agora.ingest.market.Executions.Event;
import io.agora.ingest.market.Executions.Execution;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ExecutionsTest {
    private static final Instant T0 = Instant.parse("2026-12-07T00:00:00Z");

    private static Event ev(int s, String type, String reason, String worker, int replica, int attempt) {
        return new Event("e" + s, type, reason, worker, replica, attempt, T0.plusSeconds(s));
    }

    @Test
    void eachReplicaAndAttemptIsOneExecutionWithItsTimesOutcomeAndReassignmentReason() {
        List<Execution> x = Executions.of(List.of(
                ev(0, "ACCEPTED", null, null, -1, -1),
                ev(1, "ASSIGNED", "score 0.9", "w1", 0, 1),
                ev(1, "ASSIGNED", "score 0.8", "w2", 1, 1),
                ev(2, "STARTED", "replica 0 held by its worker", "w1", 0, 1),
                ev(5, "REPLICA_FINISHED", "SUCCEEDED", "w1", 0, 1),
                ev(9, "REASSIGNED", "lease expired", "w3", 1, 2),
                ev(12, "REPLICA_FINISHED", "TIMEOUT", "w3", 1, 2),
                ev(13, "NO_CONSENSUS", "1 of 2", null, -1, -1)));
        assertThat(x).containsExactly(
                new Execution(0, 1, "w1", T0.plusSeconds(1), null, T0.plusSeconds(2), T0.plusSeconds(5), "SUCCEEDED", null),
                new Execution(1, 1, "w2", T0.plusSeconds(1), null, null, T0.plusSeconds(9), "REASSIGNED", "lease expired"),
                new Execution(1, 2, "w3", T0.plusSeconds(9), "lease expired", null, T0.plusSeconds(12), "TIMEOUT", null));
    }

    @Test
    void aRunningExecutionHasNoOutcomeAndALateResultOfAMovedReplicaDoesNotReopenIt() {
        List<Execution> x = Executions.of(List.of(
                ev(1, "ASSIGNED", "s", "w1", 0, 1),
                ev(4, "REASSIGNED", "worker offline", "w2", 0, 2),
                ev(6, "REPLICA_FINISHED", "SUCCEEDED", "w1", 0, 1)));
        assertThat(x).extracting(Execution::workerId, Execution::outcome)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("w1", "REASSIGNED"),
                        org.assertj.core.groups.Tuple.tuple("w2", null));
    }
}
