package io.agora.ledger.sink;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SinkHealthTest {

    @Test
    void aSinkWhosePollLoopDiedIsDownWhateverItLastSaid() throws InterruptedException {
        SinkHealth health = new SinkHealth();
        Thread loop = new Thread(() -> health.up(3), "ledger-sink");
        health.watch(loop);
        loop.start();
        loop.join();

        SinkHealth.State s = health.state();
        assertThat(s.up()).isFalse();
        assertThat(s.reason()).isEqualTo("poll loop thread ledger-sink is not running");
        assertThat(s.records()).isEqualTo(3);
    }

    @Test
    void aRunningLoopReportsWhatTheSinkSays() {
        SinkHealth health = new SinkHealth();
        health.watch(Thread.currentThread());
        health.up(1);
        assertThat(health.state().up()).isTrue();
        health.down("schema registry unavailable");
        assertThat(health.state().reason()).isEqualTo("schema registry unavailable");
    }

    @Test
    void theLastReasonIsKeptWhenTheLoopIsGone() {
        SinkHealth.State reported = new SinkHealth.State(false, "PostgreSQL unavailable: refused", java.time.Instant.EPOCH, 0, 0);
        Thread dead = new Thread(() -> { }, "ledger-sink");
        assertThat(SinkHealth.judge(reported, dead).reason())
                .isEqualTo("poll loop thread ledger-sink is not running (last: PostgreSQL unavailable: refused)");
    }
}
