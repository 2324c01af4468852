package io.agora.runtime;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class PollsTest {
    @AfterEach
    void reset() {
        Polls.reset();
    }

    @Test
    void aThreadHasFetchedUpToTheStartOfItsPreviousPoll() {
        assertThat(Polls.fetchedUpTo()).as("never polled: no bound").isEqualTo(Long.MAX_VALUE);
        Polls.polling(1_000);
        assertThat(Polls.fetchedUpTo()).as("one poll: its fetch may not have answered yet").isZero();
        Polls.polling(1_100);
        assertThat(Polls.fetchedUpTo()).isEqualTo(1_000);
        Polls.polling(12_000);
        assertThat(Polls.fetchedUpTo()).as("a thread that went 10 s without a poll has fetched up to the poll before the last")
                .isEqualTo(1_100);
    }

    @Test
    void eachThreadHasItsOwnPolls() throws InterruptedException {
        Polls.polling(1_000);
        Polls.polling(2_000);
        AtomicLong other = new AtomicLong();
        Thread t = new Thread(() -> other.set(Polls.fetchedUpTo()));
        t.start();
        t.join();
        assertThat(other.get()).isEqualTo(Long.MAX_VALUE);
        assertThat(Polls.fetchedUpTo()).isEqualTo(1_000);
    }
}
