package io.agora.matcher;

import io.agora.events.CommandType;
import io.agora.events.JobCommand;
import io.agora.events.TaskResult;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Signatures;
import io.agora.schemas.Topics;
import io.agora.runtime.Commits;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gate of the pool stage's job-keyed inputs. Inputs: {@code agora.jobs.results} (TaskResult)
 * and {@code agora.jobs.commands} (JobCommand). A record out of {@link InputBounds} goes to
 * {@code agora.dlq} with the reason; otherwise the part the matcher needs is handed on, keyed by
 * pool: which task ended and how ({@link Flow.Result}), and CANCEL and REQUEST_REPLICAS commands
 * ({@link Flow.Command}; the others are not for the matcher). A result is believed only when signed
 * by the worker it names: an unsigned one would end a lease (and free the slot) without the penalty
 * of letting it expire. It is dropped here, not dead-lettered: the verifier dead-letters it. A command
 * handed on asks for a commit at once, a result only when the pool stage's answer is awaited ({@link ResultAsks}).
 */
final class JobInputGateProcessor implements Processor<String, SpecificRecord, String, Flow> {
    private static final Logger log = LoggerFactory.getLogger(JobInputGateProcessor.class);
    private final Serializer<TaskResult> resultBytes;
    private final Serializer<JobCommand> commandBytes;
    private final ResultAsks asks;
    private ProcessorContext<String, Flow> ctx;

    JobInputGateProcessor(AgoraSerdes serdes, ResultAsks asks) {
        this.resultBytes = serdes.valueSerde(Topics.RESULTS).serializer();
        this.commandBytes = serdes.valueSerde(Topics.JOB_COMMANDS).serializer();
        this.asks = asks;
    }

    @Override
    public void init(ProcessorContext<String, Flow> context) {
        this.ctx = context;
    }

    @Override
    public void process(Record<String, SpecificRecord> record) {
        if (record.value() instanceof TaskResult r) {
            String bad = InputBounds.result(r);
            if (bad != null) {
                WorkerGateProcessor.deadLetter(ctx, record, resultBytes.serialize(Topics.RESULTS.name(), r),
                        "task result out of bounds: " + bad);
            } else if (!Signatures.verify(r, r.getWorkerId())) {
                log.debug("unsigned result for task {} ignored", r.getTaskId());
            } else {
                ctx.forward(record.withKey(r.getPool()).withValue(new Flow.Result(r.getTaskId(), r.getJobId(),
                        r.getWorkerId(), r.getReplica(), r.getAttempt(), r.getStatus().name(), r.getDurationMs())));
                // a slot a waiting job needs, or a hand-back: the pool stage sees it after this loop, not a
                // commit interval later
                if (asks.asks(r.getPool(), r.getStatus().name())) {
                    Commits.soon(ctx, record.timestamp());
                }
            }
        } else if (record.value() instanceof JobCommand c
                && (c.getType() == CommandType.CANCEL || c.getType() == CommandType.REQUEST_REPLICAS)) {
            String bad = InputBounds.command(c);
            if (bad != null) {
                WorkerGateProcessor.deadLetter(ctx, record, commandBytes.serialize(Topics.JOB_COMMANDS.name(), c),
                        "job command out of bounds: " + bad);
            } else {
                ctx.forward(record.withKey(c.getPool()).withValue(new Flow.Command(c)));
                Commits.soon(ctx, record.timestamp());
            }
        }
    }
}
