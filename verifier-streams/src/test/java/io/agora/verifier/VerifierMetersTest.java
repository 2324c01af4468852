package io.agora.verifier;

import io.agora.events.JobVerdict;
import io.agora.events.Outcome;
import io.agora.market.Postings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class VerifierMetersTest {
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final VerifierMeters meters = new VerifierMeters(registry);

    @Test
    void countsVerdictsByOutcomeMoneyPaidAndRefundedAndDeadLetters() {
        meters.forwarded(verdict(Outcome.COMPLETED));
        meters.forwarded(verdict(Outcome.COMPLETED));
        meters.forwarded(verdict(Outcome.NO_CONSENSUS));
        meters.forwarded(Postings.payout("job-1", "alice", "w1", 1200, 0));
        meters.forwarded(Postings.payout("job-1", "alice", "w2", 800, 0));
        meters.forwarded(Postings.refund("job-1", "alice", 500, "", 0));
        meters.forwarded(Postings.hold("job-2", "alice", 9999, 0));
        meters.forwarded(new byte[] {1});

        assertThat(registry.get("agora.verifier.verdicts").tag("outcome", "COMPLETED").counter().count()).isEqualTo(2);
        assertThat(registry.get("agora.verifier.verdicts").tag("outcome", "NO_CONSENSUS").counter().count()).isEqualTo(1);
        assertThat(registry.get("agora.verifier.verdicts").tag("outcome", "EXPIRED").counter().count()).isZero();
        assertThat(registry.get("agora.verifier.paid.micros").counter().count()).isEqualTo(2000);
        assertThat(registry.get("agora.verifier.refunded.micros").counter().count()).isEqualTo(500);
        assertThat(registry.get("agora.verifier.dead.letters").counter().count()).isEqualTo(1);
    }

    private static JobVerdict verdict(Outcome outcome) {
        return JobVerdict.newBuilder().setEventId("e").setJobId("job-1").setClientId("alice").setOutcome(outcome)
                .setCostMicros(0).setRefundMicros(0).setSubmittedAt(Instant.EPOCH).setDecidedAt(Instant.EPOCH).build();
    }
}
