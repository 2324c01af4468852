package io.agora.worker;

import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A worker started while the schema registry is away (its registration schema not cached) tries its first
 * registration again after each pause until the registry answers, instead of throwing out of start().
 */
class RegistrationThroughOutageTest {
    final List<Long> pauses = new ArrayList<>();
    final List<String> said = new ArrayList<>();
    int tries;

    static RuntimeException registryAway() {
        return new SerializationException("cannot serialize WorkerRegistration", new ConnectException("Connection refused"));
    }

    @Test
    void the_registration_is_tried_again_with_growing_pauses_until_the_registry_answers() throws Exception {
        Optional<String> sent = WorkerAgent.throughOutages(() -> {
            if (++tries <= 3) {
                throw registryAway();
            }
            return "registered";
        }, () -> false, said::add, pauses::add);
        assertThat(sent).contains("registered");
        assertThat(pauses).containsExactly(500L, 1_000L, 2_000L);
        assertThat(said).hasSize(3).allSatisfy(s -> assertThat(s)
                .startsWith("not registered, trying again in").contains("Connection refused"));
    }

    @Test
    void a_failure_that_is_no_outage_is_thrown_at_once() {
        assertThatThrownBy(() -> WorkerAgent.throughOutages(() -> {
            tries++;
            throw new IllegalArgumentException("task caps over the limit");
        }, () -> false, said::add, pauses::add)).isInstanceOf(IllegalArgumentException.class);
        assertThat(tries).isEqualTo(1);
        assertThat(pauses).isEmpty();
    }

    @Test
    void a_drain_while_waiting_gives_up_without_registering() throws Exception {
        boolean[] drained = {false};
        Optional<String> sent = WorkerAgent.throughOutages(() -> {
            tries++;
            throw registryAway();
        }, () -> drained[0], said::add, ms -> drained[0] = true);
        assertThat(sent).isEmpty();
        assertThat(tries).isEqualTo(1);
    }
}
