package io.agora.runtime;

import io.agora.schemas.DeadLetters;
import io.agora.schemas.Topics;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.Response;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.Result;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ProductionDeadLetterHandlerTest {

    /** The context Streams hands the handler: where the input record was read. */
    record Context(String topic, int partition, long offset, byte[] sourceRawKey, byte[] sourceRawValue)
            implements ErrorHandlerContext {
        @Override
        public Headers headers() {
            return new RecordHeaders();
        }

        @Override
        public String processorNodeId() {
            return "market-sink";
        }

        @Override
        public TaskId taskId() {
            return new TaskId(0, partition);
        }

        @Override
        public long timestamp() {
            return 0;
        }
    }

    final ProductionDeadLetterHandler handler = new ProductionDeadLetterHandler();
    final ProducerRecord<byte[], byte[]> output = new ProducerRecord<>(Topics.TASKS.name(), 7, bytes("w1"), new byte[2_000_000]);

    {
        handler.configure(Map.of("application.id", "agora-matcher"));
    }

    @Test
    void anOutputTooLargeDeadLettersTheInputThatProducedIt() {
        Context ctx = new Context(Topics.JOB_REQUESTS.name(), 2, 41, bytes("c1"), bytes("job"));
        Response r = handler.handleError(ctx, output, new RecordTooLargeException("2000000 bytes"));

        assertThat(r.result()).isEqualTo(Result.RESUME);
        ProducerRecord<byte[], byte[]> dead = r.deadLetterQueueRecords().get(0);
        assertThat(dead.topic()).isEqualTo(Topics.DLQ.name());
        assertThat(dead.value()).isEqualTo(bytes("job"));
        assertThat(DeadLetters.header(dead.headers(), DeadLetters.H_TOPIC)).isEqualTo(Topics.JOB_REQUESTS.name());
        assertThat(DeadLetters.header(dead.headers(), DeadLetters.H_OFFSET)).isEqualTo("41");
        assertThat(DeadLetters.header(dead.headers(), DeadLetters.H_REASON))
                .isEqualTo("cannot write to agora.jobs.tasks: RecordTooLargeException: 2000000 bytes");
    }

    @Test
    void retriableSendErrorsAreRetried() {
        Context ctx = new Context(Topics.JOB_REQUESTS.name(), 2, 41, bytes("c1"), bytes("job"));
        Response r = handler.handleError(ctx, output, new NotEnoughReplicasException("min.insync.replicas"));
        assertThat(r.result()).isEqualTo(Result.RETRY);
        assertThat(r.deadLetterQueueRecords()).isEmpty();
    }

    @Test
    void aRefusedDeadLetterIsNotDeadLetteredAgain() {
        ProducerRecord<byte[], byte[]> dead = new ProducerRecord<>(Topics.DLQ.name(), bytes("k"), new byte[2_000_000]);
        Response r = handler.handleError(new Context(Topics.JOB_REQUESTS.name(), 0, 1, null, bytes("x")), dead,
                new RecordTooLargeException("too large"));
        assertThat(r.result()).isEqualTo(Result.RESUME);
        assertThat(r.deadLetterQueueRecords()).isEmpty();
    }

    @Test
    void withoutAnInputTheOutputIsDeadLettered() {
        Response r = handler.handleError(new Context(null, -1, -1, null, null), output, new RecordTooLargeException("big"));
        ProducerRecord<byte[], byte[]> dead = r.deadLetterQueueRecords().get(0);
        assertThat(dead.key()).isEqualTo(bytes("w1"));
        assertThat(DeadLetters.header(dead.headers(), DeadLetters.H_TOPIC)).isEqualTo(Topics.TASKS.name());
        assertThat(DeadLetters.header(dead.headers(), DeadLetters.H_PARTITION)).isEqualTo("-1");
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
