package io.agora.verifier;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class OpenJobsTest {
    @Test
    void aJobIsDueFromItsSweepTimeEarliestFirstAndOnlyUnderItsLatestTime() {
        OpenJobs open = new OpenJobs();
        open.put("b", 200);
        open.put("a", 100);
        open.put("c", 100);
        assertThat(open.due(99)).isEmpty();
        assertThat(open.due(100)).containsExactly("a", "c");
        assertThat(open.due(1_000)).containsExactly("a", "c", "b");

        open.put("a", 300); // a pending cancel's job got its first task: now its deadline counts
        assertThat(open.due(250)).containsExactly("c", "b");
        assertThat(open.size()).isEqualTo(3);
    }

    @Test
    void aDecidedOrDroppedJobLeavesTheIndex() {
        OpenJobs open = new OpenJobs();
        open.put("a", 100);
        open.put("b", -1); // never open: nothing to remove
        assertThat(open.size()).isEqualTo(1);
        open.put("a", -1);
        assertThat(open.isEmpty()).isTrue();
        assertThat(open.due(Long.MAX_VALUE)).isEmpty();
    }
}
