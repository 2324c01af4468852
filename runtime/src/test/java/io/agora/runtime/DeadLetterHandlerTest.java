package io.agora.runtime;

import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler.Response;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler.Result;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchException;

/**
 * The deserialization handler against the real Apicurio client: a registry that cannot be
 * reached fails (the record is read again later), a record that is not Avro is dead-lettered.
 */
class DeadLetterHandlerTest {
    final DeadLetterHandler handler = new DeadLetterHandler();

    {
        handler.configure(Map.of("application.id", "agora-matcher"));
    }

    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Confluent wire format: magic byte 0, then a 4-byte content id the registry must be asked for. */
    static byte[] wireFormat(int contentId) {
        return ByteBuffer.allocate(6).put((byte) 0).putInt(contentId).put((byte) 2).array();
    }

    @Test
    void aRegistryThatCannotBeReachedFailsAndDeadLettersNothing() throws IOException {
        AgoraSerdes serdes = AgoraSerdes.registry("http://127.0.0.1:" + closedPort() + "/apis/registry/v2");
        byte[] value = wireFormat(42);
        Exception failure = catchException(() -> serdes.valueSerde(Topics.HEARTBEATS).deserializer()
                .deserialize(Topics.HEARTBEATS.name(), value));
        assertThat(failure).isNotNull();

        Response r = handler.handleError(null, record(value), failure);

        assertThat(r.result()).isEqualTo(Result.FAIL);
        assertThat(r.deadLetterQueueRecords()).isEmpty();
    }

    @Test
    void bytesThatAreNotAnEventAreDeadLettered() {
        byte[] value = "not avro".getBytes();
        Exception failure = catchException(() -> AgoraSerdes.plain().valueSerde(Topics.HEARTBEATS).deserializer()
                .deserialize(Topics.HEARTBEATS.name(), value));

        Response r = handler.handleError(null, record(value), failure);

        assertThat(r.result()).isEqualTo(Result.RESUME);
        assertThat(r.deadLetterQueueRecords()).hasSize(1);
        var dead = r.deadLetterQueueRecords().get(0);
        assertThat(dead.topic()).isEqualTo(Topics.DLQ.name());
        assertThat(dead.value()).isEqualTo(value);
        assertThat(DeadLetters.header(dead.headers(), DeadLetters.H_REASON)).startsWith("undeserialisable: ");
        assertThat(DeadLetters.header(dead.headers(), DeadLetters.H_OFFSET)).isEqualTo("7");
    }

    @Test
    void aRecordWithoutTheRegistryHeaderIsDeadLetteredInPlainWordsWithoutAskingTheRegistry() throws IOException {
        AgoraSerdes serdes = AgoraSerdes.registry("http://127.0.0.1:" + closedPort() + "/apis/registry/v2");
        byte[] value = "this is not an avro record".getBytes();
        Exception failure = catchException(() -> serdes.valueSerde(Topics.HEARTBEATS).deserializer()
                .deserialize(Topics.HEARTBEATS.name(), value));

        Response r = handler.handleError(null, record(value), failure);

        assertThat(r.result()).isEqualTo(Result.RESUME);
        assertThat(DeadLetters.header(r.deadLetterQueueRecords().get(0).headers(), DeadLetters.H_REASON)).isEqualTo(
                "undeserialisable: SerializationException: not a registry record: first byte 0x74, not the magic byte 0x00 on "
                        + Topics.HEARTBEATS.name());
    }

    static ConsumerRecord<byte[], byte[]> record(byte[] value) {
        return new ConsumerRecord<>(Topics.HEARTBEATS.name(), 3, 7, "w1".getBytes(), value);
    }
}
