package io.agora.runtime;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GlobalInputsTest {
    @Test
    void anUnreadableRecordIsSkippedAndAReadableOneRead() {
        Serde<Integer> strict = Serdes.Integer();
        Serde<Integer> lenient = GlobalInputs.skippingUnreadable(strict);
        byte[] garbage = "not an int".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> strict.deserializer().deserialize("agora.ledger.entries", garbage))
                .as("the store's own serde refuses it").isInstanceOf(SerializationException.class);
        assertThat(lenient.deserializer().deserialize("agora.ledger.entries", garbage)).isNull();
        byte[] good = strict.serializer().serialize("agora.ledger.entries", 42);
        assertThat(lenient.deserializer().deserialize("agora.ledger.entries", good)).isEqualTo(42);
    }

    @Test
    void anOutageIsWaitedOutWithAGrowingPauseAndTheRecordReadAgain() {
        int[] calls = {0};
        Serde<String> flaky = Serdes.serdeFrom(Serdes.String().serializer(), (topic, data) -> {
            if (++calls[0] <= 8) {
                throw new TimeoutException("registry unreachable");
            }
            return "read";
        });
        List<Long> pauses = new ArrayList<>();
        assertThat(GlobalInputs.skippingUnreadable(flaky, pauses::add).deserializer().deserialize("t", new byte[1]))
                .isEqualTo("read");
        assertThat(pauses).containsExactly(500L, 1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 30_000L, 30_000L);
    }

    @Test
    void anOutageIsThrownWhenTheWaitIsInterrupted() {
        Serde<String> down = Serdes.serdeFrom(Serdes.String().serializer(), (topic, data) -> {
            throw new TimeoutException("registry unreachable");
        });
        assertThatThrownBy(() -> GlobalInputs.skippingUnreadable(down, ms -> {
            throw new InterruptedException();
        }).deserializer().deserialize("t", new byte[1])).isInstanceOf(TimeoutException.class);
        assertThat(Thread.interrupted()).as("the interrupt is kept").isTrue();
    }
}
