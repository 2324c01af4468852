package io.agora.verifier;

import io.agora.events.EntryKind;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.events.Posting;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * What the verifier counts, from the records its job processor forwards (the consensus and the
 * job's case stay free of meters): {@code agora_verifier_verdicts_total{outcome}},
 * {@code agora_verifier_paid_micros_total} (PAYOUTs to workers),
 * {@code agora_verifier_refunded_micros_total} (REFUNDs to clients) and
 * {@code agora_verifier_dead_letters_total}.
 */
public final class VerifierMeters {
    private final MeterRegistry registry;
    private final Counter paid;
    private final Counter refunded;
    private final Counter deadLetters;

    public VerifierMeters(MeterRegistry registry) {
        this.registry = registry;
        this.paid = Counter.builder("agora.verifier.paid.micros").description("micro-credits paid to workers")
                .register(registry);
        this.refunded = Counter.builder("agora.verifier.refunded.micros").description("micro-credits refunded to clients")
                .register(registry);
        this.deadLetters = Counter.builder("agora.verifier.dead.letters").description("records sent to agora.dlq")
                .register(registry);
        for (Outcome o : Outcome.values()) {
            verdicts(o);
        }
    }

    private Counter verdicts(Outcome outcome) {
        return Counter.builder("agora.verifier.verdicts").description("jobs decided, by outcome")
                .tag("outcome", outcome.name()).register(registry);
    }

    /** Meters nobody reads (tests of the topology). */
    static VerifierMeters none() {
        return new VerifierMeters(new SimpleMeterRegistry());
    }

    /** One record the job processor forwarded. */
    void forwarded(Object value) {
        if (value instanceof JobVerdict v) {
            verdicts(v.getOutcome()).increment();
        } else if (value instanceof LedgerEntry e && (e.getKind() == EntryKind.PAYOUT || e.getKind() == EntryKind.REFUND)) {
            long credited = 0;
            for (Posting p : e.getPostings()) {
                credited += Math.max(0, p.getAmountMicros());
            }
            (e.getKind() == EntryKind.PAYOUT ? paid : refunded).increment(credited);
        } else if (value instanceof byte[]) {
            deadLetters.increment();
        }
    }
}
