package io.agora.matcher;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PoolQueueTest {

    static List<String> walk(PoolQueue q, int free) {
        List<String> out = new ArrayList<>();
        for (String k = q.next(null, free); k != null; k = q.next(k, free)) {
            out.add(q.jobAt(k));
        }
        return out;
    }

    @Test
    void aWalkVisitsOnlyJobsTheFreeWorkersCouldPlaceInQueueOrderAcrossNeeds() {
        PoolQueue q = new PoolQueue();
        q.add("a", "job-a", 3);
        q.add("b", "job-b", 1);
        q.add("c", "job-c", 2);
        q.add("d", "job-d", 3);
        q.add("e", "job-e", 1);

        assertThat(walk(q, 0)).isEmpty();
        assertThat(walk(q, 1)).containsExactly("job-b", "job-e");
        assertThat(walk(q, 2)).containsExactly("job-b", "job-c", "job-e");
        assertThat(walk(q, 3)).containsExactly("job-a", "job-b", "job-c", "job-d", "job-e");
        assertThat(q.anyWithin(0)).isFalse();
        assertThat(q.anyWithin(1)).isTrue();
        assertThat(q.size()).isEqualTo(5);
    }

    @Test
    void aRemovedKeyLeavesTheWalkAndItsNeedEmptiedLeavesTheBound() {
        PoolQueue q = new PoolQueue();
        q.add("a", "job-a", 3);
        q.add("b", "job-b", 1);
        q.add("b", "job-b", 2);
        assertThat(q.size()).as("a queued key keeps the need it was queued under").isEqualTo(2);

        q.remove("b");
        assertThat(q.anyWithin(2)).as("only a 3-need job is left").isFalse();
        assertThat(walk(q, 3)).containsExactly("job-a");
        // a walk goes on from a key removed under it
        assertThat(q.next("b", 3)).isNull();
        assertThat(q.next("0", 3)).isEqualTo("a");
        q.remove("a");
        q.remove("missing");
        assertThat(q.isEmpty()).isTrue();
        assertThat(q.jobAt("a")).isNull();
    }
}
