package io.agora.runtime;

import io.agora.schemas.DeadLetters;
import io.agora.schemas.Outage;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Streams deserialization handler: a record that cannot be read goes to {@code agora.dlq}
 * with the reason in headers, and processing continues (KIP-1034 dead-letter records).
 * A failure that is not the record's fault ({@link Outage}: the schema registry unreachable)
 * dead-letters nothing and fails the stream thread instead, which {@link StreamsService}
 * replaces: the task restarts from its last commit and reads the same record again.
 */
public class DeadLetterHandler implements DeserializationExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(DeadLetterHandler.class);
    private String app = "streams";

    @Override
    public void configure(Map<String, ?> configs) {
        app = StreamsFailures.appId(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        Optional<String> outage = Outage.of(exception);
        if (outage.isPresent()) {
            log.error("{}: cannot read {}-{}@{} during an outage, retrying it: {}", app, record.topic(),
                    record.partition(), record.offset(), outage.get(), exception);
            return Response.fail();
        }
        String reason = "undeserialisable: " + StreamsFailures.describe(exception);
        log.warn("{}: {}-{}@{} sent to DLQ: {}", app, record.topic(), record.partition(), record.offset(), reason);
        return Response.resume(List.of(DeadLetters.record(app, reason, record)));
    }
}
