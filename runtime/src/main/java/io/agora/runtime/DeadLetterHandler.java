package io.agora.runtime;

import io.agora.schemas.DeadLetters;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/**
 * Streams deserialization handler: a record that cannot be read goes to {@code agora.dlq}
 * with the reason in headers, and processing continues (KIP-1034 dead-letter records).
 */
public class DeadLetterHandler implements DeserializationExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(DeadLetterHandler.class);
    private String app = "streams";

    @Override
    public void configure(Map<String, ?> configs) {
        Object id = configs.get("application.id");
        if (id != null) {
            app = id.toString();
        }
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        String reason = "undeserialisable: " + exception.getClass().getSimpleName() + ": " + exception.getMessage();
        log.warn("{}: {}-{}@{} sent to DLQ: {}", app, record.topic(), record.partition(), record.offset(), reason);
        return Response.resume(List.of(DeadLetters.record(app, reason, record)));
    }
}
