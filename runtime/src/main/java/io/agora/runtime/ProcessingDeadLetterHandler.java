package io.agora.runtime;

import io.agora.schemas.DeadLetters;
import io.agora.schemas.Outage;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Streams processing handler (KIP-1033, {@code processing.exception.handler}): when a processor
 * throws on a record, the source record the task was processing (its raw key and value, as read
 * from its topic) goes to {@code agora.dlq} with the processor and the exception as reason, and
 * the task goes on with the next record. Without it the record would be retried forever.
 *
 * <p>Two failures are not dead-lettered: an {@link Outage} (the registry or the network away)
 * fails the stream thread so that the record is retried once the outage ends; and a failing
 * punctuation has no record to keep, so it is logged and the next punctuation runs as usual.
 * Streams does not undo what the processor wrote before it threw (state, forwarded records):
 * processors that decide before they write (a pure state machine, then the writes) leave nothing
 * half done.
 */
public class ProcessingDeadLetterHandler implements ProcessingExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(ProcessingDeadLetterHandler.class);
    private String app = "streams";

    @Override
    public void configure(Map<String, ?> configs) {
        app = StreamsFailures.appId(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        Optional<String> outage = Outage.of(exception);
        if (outage.isPresent()) {
            log.error("{}: processor {} failed during an outage, retrying the record: {}", app,
                    context.processorNodeId(), outage.get(), exception);
            return Response.fail();
        }
        String reason = "processing failed in " + context.processorNodeId() + ": " + StreamsFailures.describe(exception);
        if (record == null || context.topic() == null) {
            log.error("{}: punctuation of {} failed, skipped until the next one: {}", app, context.processorNodeId(),
                    reason, exception);
            return Response.resume();
        }
        log.warn("{}: {}-{}@{} sent to DLQ: {}", app, context.topic(), context.partition(), context.offset(), reason, exception);
        ProducerRecord<byte[], byte[]> dead = DeadLetters.record(app, reason, context.topic(), context.partition(),
                context.offset(), context.sourceRawKey(), context.sourceRawValue());
        return Response.resume(List.of(dead));
    }
}
