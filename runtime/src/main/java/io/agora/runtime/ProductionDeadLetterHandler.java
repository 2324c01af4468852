package io.agora.runtime;

import io.agora.schemas.DeadLetters;
import io.agora.schemas.Outage;
import io.agora.schemas.Topics;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/**
 * Streams production handler ({@code production.exception.handler}): an output the broker
 * refuses for its own sake (RecordTooLargeException, an invalid record) or that cannot be
 * serialized (a value its schema does not allow) sends the input record that produced it to
 * {@code agora.dlq} with the reason, and the app goes on. Retriable send errors are retried, and
 * an {@link Outage} while serializing (the registry away) fails the thread so the task restarts
 * from its last commit: neither loses the record.
 *
 * <p>The input record is dead-lettered, not the output: it is what {@link DlqReplay} can send
 * again once the cause is fixed, and it is no larger than what the broker already accepted. When
 * the input is not known (the output of a punctuation), the output itself is dead-lettered. A DLQ
 * record that is refused in turn is only logged: nothing dead-letters a dead letter.
 */
public class ProductionDeadLetterHandler implements ProductionExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(ProductionDeadLetterHandler.class);
    private String app = "streams";

    @Override
    public void configure(Map<String, ?> configs) {
        app = StreamsFailures.appId(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        if (exception instanceof RetriableException) {
            return Response.retry();
        }
        if (Outage.isOutage(exception)) {
            log.error("{}: cannot write to {} during an outage, retrying: {}", app, record.topic(), exception.toString());
            return Response.fail();
        }
        String reason = "cannot write to " + record.topic() + ": " + StreamsFailures.describe(exception);
        if (Topics.DLQ.name().equals(record.topic())) {
            log.error("{}: a dead letter was refused too, dropped: {} (headers {})", app, reason, record.headers(), exception);
            return Response.resume();
        }
        return deadLetter(context, reason, record.key(), record.value(), record.topic(), exception);
    }

    @Override
    public Response handleSerializationError(ErrorHandlerContext context, ProducerRecord record, Exception exception,
                                             SerializationExceptionOrigin origin) {
        if (Outage.isOutage(exception)) {
            log.error("{}: cannot serialize for {} during an outage, retrying: {}", app, record.topic(), exception.toString());
            return Response.fail();
        }
        String reason = "cannot serialize the " + origin.name().toLowerCase() + " of an output to " + record.topic()
                + ": " + StreamsFailures.describe(exception);
        return deadLetter(context, reason, null, null, record.topic(), exception);
    }

    private Response deadLetter(ErrorHandlerContext context, String reason, byte[] outputKey, byte[] outputValue,
                                String outputTopic, Exception exception) {
        ProducerRecord<byte[], byte[]> dead;
        if (context != null && context.topic() != null && context.sourceRawValue() != null) {
            dead = DeadLetters.record(app, reason, context.topic(), context.partition(), context.offset(),
                    context.sourceRawKey(), context.sourceRawValue());
        } else if (outputValue != null) {
            dead = DeadLetters.record(app, reason, outputTopic, -1, -1, outputKey, outputValue);
        } else {
            log.error("{}: {}; neither the input nor the output is known, nothing to dead-letter", app, reason, exception);
            return Response.resume();
        }
        log.warn("{}: {}-{}@{} sent to DLQ: {}", app, DeadLetters.header(dead.headers(), DeadLetters.H_TOPIC),
                DeadLetters.header(dead.headers(), DeadLetters.H_PARTITION),
                DeadLetters.header(dead.headers(), DeadLetters.H_OFFSET), reason, exception);
        return Response.resume(List.of(dead));
    }
}
