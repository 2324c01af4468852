package io.agora.runtime;

import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.MockProcessorContext.CapturedPunctuator;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

class PunctuationsTest {

    @Test
    void tasksInitialisedAtDifferentMomentsPunctuateAtTheSameInstants() {
        Duration second = Duration.ofSeconds(1);
        assertThat(Punctuations.anchor(1_700_000_000_123L, second)).isEqualTo(Instant.ofEpochMilli(1_700_000_001_000L));
        assertThat(Punctuations.anchor(1_700_000_000_987L, second)).isEqualTo(Instant.ofEpochMilli(1_700_000_001_000L));
    }

    @Test
    void theFirstPunctuationIsNeverBeforeOrAtNowAndAtMostOneIntervalAway() {
        assertThat(Punctuations.anchor(1_700_000_000_000L, Duration.ofSeconds(1)))
                .isEqualTo(Instant.ofEpochMilli(1_700_000_001_000L));
        assertThat(Punctuations.anchor(1_700_000_000_001L, Duration.ofMillis(250)))
                .isEqualTo(Instant.ofEpochMilli(1_700_000_000_250L));
        assertThat(Punctuations.anchor(5, Duration.ZERO)).as("a zero interval counts as 1 ms").isEqualTo(Instant.ofEpochMilli(6));
    }

    @Test
    void aPunctuationWithNothingPendingSlowsDownAndAWakeBringsTheBusyIntervalBack() {
        MockProcessorContext<Object, Object> ctx = new MockProcessorContext<>();
        ctx.setCurrentSystemTimeMs(500);
        AtomicBoolean pending = new AtomicBoolean(true);
        Punctuations.Adaptive p = Punctuations.adaptive(ctx, Duration.ofSeconds(1), Duration.ofSeconds(30), now -> pending.get());
        assertThat(live(ctx)).singleElement().extracting(CapturedPunctuator::getInterval).isEqualTo(Duration.ofSeconds(1));

        live(ctx).get(0).getPunctuator().punctuate(1_000);
        assertThat(p.idling()).as("something pending: stays busy").isFalse();
        assertThat(live(ctx)).hasSize(1);

        pending.set(false);
        live(ctx).get(0).getPunctuator().punctuate(2_000);
        assertThat(p.idling()).isTrue();
        assertThat(live(ctx)).singleElement().extracting(CapturedPunctuator::getInterval).isEqualTo(Duration.ofSeconds(30));

        p.wake();
        assertThat(p.idling()).isFalse();
        assertThat(live(ctx)).singleElement().extracting(CapturedPunctuator::getInterval).isEqualTo(Duration.ofSeconds(1));
        p.wake();
        assertThat(live(ctx)).as("a wake while busy changes nothing").hasSize(1);
    }

    private static List<CapturedPunctuator> live(MockProcessorContext<Object, Object> ctx) {
        return ctx.scheduledPunctuators().stream().filter(c -> !c.cancelled()).toList();
    }
}
