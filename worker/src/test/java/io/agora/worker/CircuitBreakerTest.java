package io.agora.worker;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CircuitBreakerTest {
    final AtomicLong now = new AtomicLong(1_000);
    final CircuitBreaker breaker = new CircuitBreaker("docker engine", 3, 5_000, now::get);

    @Test
    void stays_closed_below_the_threshold_and_a_success_resets_the_count() {
        breaker.onFailure("e1");
        breaker.onFailure("e2");
        breaker.onSuccess();
        breaker.onFailure("e3");
        breaker.onFailure("e4");
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(breaker.tryAcquire()).isTrue();
    }

    @Test
    void opens_at_the_threshold_and_refuses_calls() {
        for (int i = 0; i < 3; i++) {
            breaker.onFailure("connection refused");
        }
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(breaker.tryAcquire()).isFalse();
        assertThat(breaker.lastError()).isEqualTo("connection refused");
        assertThatThrownBy(() -> breaker.call(() -> "never"))
                .isInstanceOf(CircuitBreaker.OpenException.class)
                .hasMessageContaining("connection refused");
    }

    @Test
    void half_open_after_the_open_period_lets_one_trial_through() {
        for (int i = 0; i < 3; i++) {
            breaker.onFailure("down");
        }
        now.addAndGet(5_000);
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        assertThat(breaker.tryAcquire()).isTrue();
        assertThat(breaker.tryAcquire()).as("only one trial at a time").isFalse();
    }

    @Test
    void a_successful_trial_closes_it() throws Exception {
        for (int i = 0; i < 3; i++) {
            breaker.onFailure("down");
        }
        now.addAndGet(6_000);
        assertThat(breaker.call(() -> "pong")).isEqualTo("pong");
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void a_failed_trial_opens_it_again_for_a_full_period() {
        for (int i = 0; i < 3; i++) {
            breaker.onFailure("down");
        }
        now.addAndGet(5_000);
        assertThatThrownBy(() -> breaker.call(() -> {
            throw new IllegalStateException("still down");
        })).isInstanceOf(IllegalStateException.class);
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        now.addAndGet(4_999);
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        now.addAndGet(1);
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        assertThat(breaker.lastError()).contains("still down");
    }

    @Test
    void backoff_doubles_up_to_the_cap_and_retries_only_retryable_failures() throws Exception {
        Backoff b = new Backoff(100, 1_000);
        assertThat(b.delayMs(0)).isEqualTo(100);
        assertThat(b.delayMs(3)).isEqualTo(800);
        assertThat(b.delayMs(4)).isEqualTo(1_000);
        assertThat(b.delayMs(62)).isEqualTo(1_000);
        int[] calls = {0};
        Backoff fast = new Backoff(1, 2);
        assertThat(fast.retry(3, e -> true, () -> {
            if (++calls[0] < 3) {
                throw new IllegalStateException("flaky");
            }
            return "ok";
        })).isEqualTo("ok");
        calls[0] = 0;
        assertThatThrownBy(() -> fast.retry(3, e -> false, () -> {
            calls[0]++;
            throw new IllegalArgumentException("bad request");
        })).isInstanceOf(IllegalArgumentException.class);
        assertThat(calls[0]).isEqualTo(1);
    }
}
