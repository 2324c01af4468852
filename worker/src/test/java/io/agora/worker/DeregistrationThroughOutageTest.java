package io.agora.worker;

import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static io.agora.worker.RegistrationThroughOutageTest.registryAway;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A drain sends the deregistrations of its identities through an outage of the schema registry or Kafka, trying
 * again after each pause, but only until its deadline: a shutdown never hangs on an outage.
 */
class DeregistrationThroughOutageTest {
    final List<Long> pauses = new ArrayList<>();
    final List<String> said = new ArrayList<>();
    final Map<String, String> refused = new HashMap<>();
    final Map<String, Integer> writes = new HashMap<>();
    /** The test's clock: a pause moves it on. */
    long now;

    void pause(long ms) {
        pauses.add(ms);
        now += ms;
    }

    CompletableFuture<?> acked() {
        return CompletableFuture.completedFuture("acked");
    }

    @Test
    void each_identity_is_written_again_after_growing_pauses_until_the_registry_answers() throws Exception {
        List<String> unsent = Deregistrations.send(List.of("w-1", "w-2"), id -> {
            if (writes.merge(id, 1, Integer::sum) <= 2) {
                throw registryAway();
            }
            return acked();
        }, 60_000, () -> now, said::add, refused::put, this::pause);
        assertThat(unsent).isEmpty();
        assertThat(writes).containsEntry("w-1", 3).containsEntry("w-2", 3);
        assertThat(pauses).containsExactly(500L, 1_000L);
        assertThat(said).hasSize(2).allSatisfy(s -> assertThat(s)
                .startsWith("2 not deregistered, trying again in").contains("Connection refused"));
    }

    @Test
    void a_broker_that_failed_the_write_during_an_outage_gets_it_again_and_only_the_failed_one() throws Exception {
        List<String> unsent = Deregistrations.send(List.of("w-1", "w-2"), id -> {
            int n = writes.merge(id, 1, Integer::sum);
            return id.equals("w-2") && n == 1
                    ? CompletableFuture.failedFuture(new TimeoutException("Expiring 1 record(s): 30000 ms has passed"))
                    : acked();
        }, 60_000, () -> now, said::add, refused::put, this::pause);
        assertThat(unsent).isEmpty();
        assertThat(writes).containsEntry("w-1", 1).containsEntry("w-2", 2);
        assertThat(said).singleElement().asString().startsWith("1 not deregistered").contains("Kafka unavailable");
    }

    @Test
    void an_outage_that_outlasts_the_deadline_is_given_up_before_a_pause_that_would_end_past_it() throws Exception {
        List<String> unsent = Deregistrations.send(List.of("w-1", "w-2"), id -> {
            writes.merge(id, 1, Integer::sum);
            throw registryAway();
        }, 2_000, () -> now, said::add, refused::put, this::pause);
        assertThat(unsent).containsExactly("w-1", "w-2");
        assertThat(pauses).as("the next, 2 s, would end past the deadline").containsExactly(500L, 1_000L);
        assertThat(writes).containsEntry("w-1", 3).containsEntry("w-2", 3);
    }

    @Test
    void writes_that_block_stop_at_the_deadline_and_the_rest_are_not_written() throws Exception {
        List<String> unsent = Deregistrations.send(List.of("w-1", "w-2", "w-3"), id -> {
            writes.merge(id, 1, Integer::sum);
            now += 5_000; // Kafka away: the send blocks for max.block.ms, then fails
            throw new TimeoutException("Topic agora.workers.registrations not present in metadata after 5000 ms.");
        }, 8_000, () -> now, said::add, refused::put, this::pause);
        assertThat(unsent).containsExactly("w-1", "w-2", "w-3");
        assertThat(writes).containsOnlyKeys("w-1", "w-2");
        assertThat(pauses).isEmpty();
    }

    @Test
    void a_broker_that_has_not_acknowledged_by_the_deadline_is_not_waited_for() throws Exception {
        now = 5_000;
        List<String> unsent = Deregistrations.send(List.of("w-1"), id -> new CompletableFuture<>(), 5_000, () -> now,
                said::add, refused::put, this::pause);
        assertThat(unsent).containsExactly("w-1");
        assertThat(pauses).isEmpty();
    }

    @Test
    void a_record_that_fails_for_a_reason_of_its_own_is_not_written_again() throws Exception {
        List<String> unsent = Deregistrations.send(List.of("w-1", "w-2"), id -> {
            writes.merge(id, 1, Integer::sum);
            if (id.equals("w-1")) {
                throw new IllegalArgumentException("record too large");
            }
            return acked();
        }, 60_000, () -> now, said::add, refused::put, this::pause);
        assertThat(unsent).isEmpty();
        assertThat(refused).containsOnlyKeys("w-1").hasEntrySatisfying("w-1", r -> assertThat(r).contains("record too large"));
        assertThat(writes).containsEntry("w-1", 1).containsEntry("w-2", 1);
        assertThat(pauses).isEmpty();
    }
}
