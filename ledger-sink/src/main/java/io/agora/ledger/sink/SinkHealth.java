package io.agora.ledger.sink;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

/** What the sink is doing right now, for {@code /health}: UP, or DOWN with the reason. */
public final class SinkHealth {
    /** @param up true while the sink can write; {@code reason} says why not */
    public record State(boolean up, String reason, Instant since, long batches, long records) {
    }

    private final AtomicReference<State> state =
            new AtomicReference<>(new State(false, "starting", Instant.now(), 0, 0));

    public State state() {
        return state.get();
    }

    public void up(int batchRecords) {
        state.updateAndGet(s -> new State(true, null, s.up() ? s.since() : Instant.now(),
                s.batches() + (batchRecords > 0 ? 1 : 0), s.records() + batchRecords));
    }

    public void down(String reason) {
        state.updateAndGet(s -> new State(false, reason, !s.up() && reason.equals(s.reason()) ? s.since() : Instant.now(),
                s.batches(), s.records()));
    }
}
