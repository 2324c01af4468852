package io.agora.ledger;

import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Topics;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The sink's decoder tells a record that does not decode from a registry it cannot reach. */
class EventDecoderTest {

    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void aRegistryThatCannotBeReachedIsAnOutageNotABadRecord() throws IOException {
        EventDecoder decoder = new EventDecoder(AgoraSerdes.registry("http://127.0.0.1:" + closedPort() + "/apis/registry/v2"));
        byte[] wire = ByteBuffer.allocate(6).put((byte) 0).putInt(42).put((byte) 2).array();

        assertThatThrownBy(() -> decoder.decode(Topics.LEDGER.name(), wire))
                .isInstanceOf(EventDecoder.RegistryOutage.class)
                .hasMessageStartingWith("schema registry unavailable");
    }

    @Test
    void bytesThatAreNotAnEventAreUndecodable() {
        EventDecoder decoder = new EventDecoder(AgoraSerdes.plain());
        assertThatThrownBy(() -> decoder.decode(Topics.LEDGER.name(), "garbage".getBytes()))
                .isInstanceOf(EventDecoder.UndecodableRecord.class)
                .hasMessageStartingWith("cannot decode agora.ledger.entries value");
        assertThatThrownBy(() -> decoder.decode("agora.other", new byte[1]))
                .isInstanceOf(EventDecoder.UndecodableRecord.class);
    }
}
