package io.agora.matcher;

import io.agora.events.CommandType;
import io.agora.events.JobCommand;
import io.agora.events.ResultStatus;
import io.agora.events.TaskResult;
import io.agora.schemas.Identity;
import io.agora.schemas.Signatures;
import io.agora.schemas.testing.SignedRecords;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which inputs of the job input gate ask for a commit at once ({@link ResultAsks}): a command always, a result
 * only when the pool stage's answer to it is awaited.
 */
class JobInputGateAsksTest {
    /** Far ahead of the wall clock (2096), as in {@code CommitsTest}: every record is fresh. */
    private static final long T0 = 4_000_000_000_000L;
    /** A sub-topology id per gate: {@code Commits} keeps each stage's last ask per thread, and its gap would hold the next. */
    private static int stage = 900;

    private final Identity worker = Identity.generate();
    private final ResultAsks asks = new ResultAsks();

    @Test
    void aResultAsksOnlyWhileAJobOfItsPoolWaitsOrWhenItHandsItsTaskBack() {
        assertThat(asked(result(ResultStatus.SUCCEEDED))).as("a pool no stage of this process holds").isTrue();

        asks.waits("public", false);
        assertThat(asked(result(ResultStatus.SUCCEEDED))).as("nobody waits on the slot it frees").isFalse();
        assertThat(asked(result(ResultStatus.TIMEOUT))).as("the verifier reads it from its own topic").isFalse();
        assertThat(asked(result(ResultStatus.HANDED_BACK))).as("its task moves: a worker waits").isTrue();

        asks.waits("public", true);
        assertThat(asked(result(ResultStatus.SUCCEEDED))).as("a waiting job takes the slot it frees").isTrue();

        asks.waits("public", false);
        asks.forget("public"); // its pool stage's task closed
        assertThat(asked(result(ResultStatus.SUCCEEDED))).isTrue();
    }

    @Test
    void aCommandHandedOnAlwaysAsks() {
        asks.waits("public", false);
        assertThat(asked(command(CommandType.REQUEST_REPLICAS))).as("the replicas to place").isTrue();
        assertThat(asked(command(CommandType.CANCEL))).as("a queued job's refund").isTrue();
    }

    /** Whether the gate, handing {@code input} on, asked for a commit at once (granted, or carried to the gap's end). */
    private boolean asked(SpecificRecord input) {
        Properties p = new Properties();
        p.put("application.id", "asks-test");
        p.put("bootstrap.servers", "unused:9092");
        MockProcessorContext<String, Flow> ctx = new MockProcessorContext<>(p, new TaskId(stage++, 0), null);
        ctx.setCurrentSystemTimeMs(T0);
        JobInputGateProcessor gate = new JobInputGateProcessor(MatcherTopologyTest.SERDES, asks);
        gate.init(ctx);
        gate.process(new Record<>("job-1", input, T0));
        assertThat(ctx.forwarded()).as("handed on").hasSize(1);
        return ctx.committed() || !ctx.scheduledPunctuators().isEmpty();
    }

    private TaskResult result(ResultStatus status) {
        TaskResult r = SignedRecords.unsignedResult("job-1", worker.workerId(), 0, 0, status, "out", 10,
                Instant.ofEpochMilli(T0), 1);
        r.setPool("public");
        return Signatures.sign(r, worker.privateKey());
    }

    private static JobCommand command(CommandType type) {
        return JobCommand.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId("job-1").setClientId("kim")
                .setPool("public").setType(type).setCount(1).setExcludeWorkers(List.of())
                .setTimestamp(Instant.ofEpochMilli(T0)).build();
    }
}
