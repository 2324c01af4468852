package io.agora.runtime;

import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.junit.jupiter.api.Test;

import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class CommitsTest {
    /** Far ahead of the wall clock (2096): a carried ask starts at the gap's end, never before the wall clock. */
    static final long T0 = 4_000_000_000_000L;

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

    @Test
    void anAskTheGapHoldsIsCarriedToTheGapsEndByOneWallClockPunctuation() {
        long t = T0 + 20 * Commits.GAP_MS;
        assertThat(Commits.carryAt(t, t + 10)).isEqualTo(t + Commits.GAP_MS);
        assertThat(Commits.carryAt(t, t + Commits.GAP_MS + 7)).as("the loop's time lagged the wall clock past the gap")
                .isEqualTo(t + Commits.GAP_MS + 8);
        MockProcessorContext<String, String> first = context(new TaskId(50, 0), t);
        MockProcessorContext<String, String> held = context(new TaskId(50, 1), t + 10);
        MockProcessorContext<String, String> alsoHeld = context(new TaskId(50, 2), t + 20);

        Commits.ask(first);
        assertThat(first.committed()).isTrue();
        assertThat(first.scheduledPunctuators()).as("a granted ask carries nothing").isEmpty();

        Commits.ask(held);
        assertThat(held.committed()).as("within the gap").isFalse();
        assertThat(held.scheduledPunctuators()).singleElement().satisfies(p -> {
            assertThat(p.getType()).isEqualTo(PunctuationType.WALL_CLOCK_TIME);
            assertThat(p.cancelled()).isFalse();
        });
        Commits.ask(alsoHeld);
        assertThat(alsoHeld.committed()).isFalse();
        assertThat(alsoHeld.scheduledPunctuators()).as("it rides on the carried ask").isEmpty();

        MockProcessorContext.CapturedPunctuator carried = held.scheduledPunctuators().get(0);
        held.setCurrentSystemTimeMs(t + Commits.GAP_MS);
        carried.getPunctuator().punctuate(t + Commits.GAP_MS);
        assertThat(held.committed()).as("asked again at the gap's end").isTrue();
        assertThat(carried.cancelled()).as("one shot").isTrue();

        held.resetCommit();
        held.setCurrentSystemTimeMs(t + Commits.GAP_MS + 1);
        Commits.ask(held);
        assertThat(held.committed()).as("the carried ask counts as the stage's last").isFalse();
        assertThat(held.scheduledPunctuators()).hasSize(2);
    }

    @Test
    void anAskGrantedBeforeTheCarriedOneFiresCancelsIt() {
        long t = T0 + 40 * Commits.GAP_MS;
        MockProcessorContext<String, String> ctx = context(new TaskId(51, 0), t);
        Commits.ask(ctx);
        ctx.resetCommit();
        ctx.setCurrentSystemTimeMs(t + 1);
        Commits.ask(ctx);
        MockProcessorContext.CapturedPunctuator carried = ctx.scheduledPunctuators().get(0);

        ctx.setCurrentSystemTimeMs(t + Commits.GAP_MS);
        Commits.ask(ctx);
        assertThat(ctx.committed()).isTrue();
        assertThat(carried.cancelled()).as("this commit carries what it waited for").isTrue();

        ctx.resetCommit();
        carried.getPunctuator().punctuate(t + Commits.GAP_MS);
        assertThat(ctx.committed()).as("a cancelled carry that runs anyway asks nothing").isFalse();
    }

    @Test
    void anAskAnotherStageOfTheThreadIsGrantedCancelsTheCarriedOneToo() {
        long t = T0 + 60 * Commits.GAP_MS;
        MockProcessorContext<String, String> admission = context(new TaskId(52, 0), t);
        MockProcessorContext<String, String> placement = context(new TaskId(53, 0), t + 5);
        Commits.ask(admission);
        admission.resetCommit();
        admission.setCurrentSystemTimeMs(t + 1);
        Commits.ask(admission);
        MockProcessorContext.CapturedPunctuator carried = admission.scheduledPunctuators().get(0);

        Commits.ask(placement);
        assertThat(placement.committed()).isTrue();
        assertThat(carried.cancelled()).as("the thread's commit carries every task's records").isTrue();
    }

    @Test
    void aStreamThreadsPollWaitsNoLongerThanUntilItsCarriedAskIsDue() {
        long due = T0 + 1_000;
        assertThat(Commits.pollWaitMs(500, due - 30, due)).as("until it is due").isEqualTo(30);
        assertThat(Commits.pollWaitMs(500, due - 900, due)).as("never longer than wanted").isEqualTo(500);
        assertThat(Commits.pollWaitMs(500, due, due)).as("due: its punctuation runs after this poll").isEqualTo(1);
        assertThat(Commits.pollWaitMs(500, due + Commits.GAP_MS - 1, due)).isEqualTo(1);
        assertThat(Commits.pollWaitMs(0, due, due)).as("never longer than wanted").isZero();
        assertThat(Commits.pollWaitMs(500, due + Commits.GAP_MS, due)).as("a gap overdue: its task has closed").isEqualTo(500);

        long t = T0 + 100 * Commits.GAP_MS; // every ask earlier tests carried on this thread is long overdue
        assertThat(Commits.pollWaitMs(500, t)).as("nothing carried").isEqualTo(500);
        MockProcessorContext<String, String> ctx = context(new TaskId(60, 0), t);
        Commits.ask(ctx);
        assertThat(Commits.pollWaitMs(500, t + 10)).as("a granted ask bounds nothing").isEqualTo(500);
        ctx.setCurrentSystemTimeMs(t + 10);
        Commits.ask(ctx);
        assertThat(Commits.pollWaitMs(500, t + 10)).as("held at t + 10, carried to the gap's end").isEqualTo(Commits.GAP_MS - 10);
        ctx.setCurrentSystemTimeMs(t + Commits.GAP_MS);
        ctx.scheduledPunctuators().get(0).getPunctuator().punctuate(t + Commits.GAP_MS);
        assertThat(ctx.committed()).isTrue();
        assertThat(Commits.pollWaitMs(500, t + Commits.GAP_MS)).as("carried and made").isEqualTo(500);
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
