package io.agora.runtime;

import org.junit.jupiter.api.Test;

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
}
