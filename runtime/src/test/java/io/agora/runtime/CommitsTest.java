package io.agora.runtime;

import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.junit.jupiter.api.Test;

import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class CommitsTest {
    static final long T0 = 1_700_000_000_000L;

    @Test
    void onlyAFreshRecordAsksForACommitAtOnce() {
        assertThat(Commits.fresh(T0, T0)).isTrue();
        assertThat(Commits.fresh(T0, T0 - Commits.FRESH_MS + 1)).isTrue();
        assertThat(Commits.fresh(T0, T0 - Commits.FRESH_MS)).as("from a backlog").isFalse();
        assertThat(Commits.fresh(T0, T0 + 60_000)).as("a clock ahead of the matcher's").isTrue();
    }

    @Test
    void aStageAsksAtMostOncePerGap() {
        assertThat(Commits.due(T0, null)).as("never asked").isTrue();
        assertThat(Commits.due(T0 + Commits.GAP_MS - 1, T0)).isFalse();
        assertThat(Commits.due(T0 + Commits.GAP_MS, T0)).isTrue();
        assertThat(Commits.due(T0 - 1, T0)).as("a clock that went back").isTrue();
    }

    @Test
    void freshRecordsOfOneStageShareACommitWithinTheGapAndAnotherStageStillCommitsAtOnce() {
        long t = T0 + 10 * Commits.GAP_MS; // apart from whatever an earlier test on this thread asked
        MockProcessorContext<String, String> admission = context(new TaskId(40, 0), t);
        MockProcessorContext<String, String> admissionOtherPartition = context(new TaskId(40, 3), t);
        MockProcessorContext<String, String> placement = context(new TaskId(41, 0), t);

        Commits.soon(admission, t);
        assertThat(admission.committed()).as("the first fresh record").isTrue();

        admissionOtherPartition.setCurrentSystemTimeMs(t + Commits.GAP_MS - 1);
        Commits.soon(admissionOtherPartition, t + Commits.GAP_MS - 1);
        assertThat(admissionOtherPartition.committed()).as("same stage and thread, within the gap").isFalse();

        placement.setCurrentSystemTimeMs(t + 5);
        Commits.soon(placement, t + 5);
        assertThat(placement.committed()).as("the job's next hop, another stage").isTrue();

        admission.resetCommit();
        admission.setCurrentSystemTimeMs(t + Commits.GAP_MS);
        Commits.soon(admission, t - Commits.FRESH_MS);
        assertThat(admission.committed()).as("a backlog's record, gap or not").isFalse();
        Commits.soon(admission, t + Commits.GAP_MS);
        assertThat(admission.committed()).as("a fresh record once the gap has passed").isTrue();
    }

    private static MockProcessorContext<String, String> context(TaskId task, long now) {
        Properties p = new Properties();
        p.put("application.id", "commits-test");
        p.put("bootstrap.servers", "unused:9092");
        MockProcessorContext<String, String> ctx = new MockProcessorContext<>(p, task, null);
        ctx.setCurrentSystemTimeMs(now);
        return ctx;
    }
}
