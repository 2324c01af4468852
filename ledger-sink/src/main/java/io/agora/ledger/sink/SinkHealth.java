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
    private volatile Thread loop;

    /**
     * What the sink last reported, unless its poll loop thread is no longer running: a loop that
     * died is DOWN whatever it said last, so {@code /health} never reports a sink that is gone.
     */
    public State state() {
        return judge(state.get(), loop);
    }

    /** Watches the thread that runs the poll loop. */
    public void watch(Thread pollLoop) {
        this.loop = pollLoop;
    }

    static State judge(State reported, Thread pollLoop) {
        if (pollLoop == null || pollLoop.isAlive()) {
            return reported;
        }
        String last = reported.reason() == null ? "" : " (last: " + reported.reason() + ")";
        return new State(false, "poll loop thread " + pollLoop.getName() + " is not running" + last, reported.since(),
                reported.batches(), reported.records());
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
