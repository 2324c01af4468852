package io.agora.schemas;

import io.agora.events.state.AdmissionAccount;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A state serde writes single-object Avro and hands a value without the header to the legacy reader. */
class StateSerdeTest {
    /** A model of one number, stored as an account; its legacy format was a bare 8-byte long. */
    private static Serde<Long> serde(boolean withLegacy) {
        return StateSerde.of(AdmissionAccount.class, m -> new AdmissionAccount(m, false),
                AdmissionAccount::getAvailableMicros, withLegacy ? b -> ByteBuffer.wrap(b).getLong() : null);
    }

    @Test
    void writesAvroAndReadsTheLegacyFormatOnce() {
        Serde<Long> s = serde(true);
        byte[] b = s.serializer().serialize("t", 42L);
        assertThat(AgoraSerdes.singleObject(b)).isTrue();
        assertThat(s.deserializer().deserialize("t", b)).isEqualTo(42L);
        assertThat(s.deserializer().deserialize("t", ByteBuffer.allocate(8).putLong(7).array())).isEqualTo(7L);
        assertThat(s.serializer().serialize("t", null)).isNull();
        assertThat(s.deserializer().deserialize("t", null)).isNull();
    }

    @Test
    void withoutALegacyFormatBytesWithoutTheHeaderAreRefused() {
        assertThatThrownBy(() -> serde(false).deserializer().deserialize("t", new byte[]{1, 2, 3}))
                .isInstanceOf(SerializationException.class).hasMessageContaining("not a single-object encoded AdmissionAccount");
    }
}
