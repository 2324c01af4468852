package io.agora.runtime;

/**
 * Up to when a stream thread has fetched its input: a stage that judges by the clock what has not arrived
 * (the matcher's worker gate and pool stage: silent workers, expired leases; the verifier: deadlines, orphaned
 * results) must not take "nothing arrived" for "nothing was sent" while its thread is not fetching. A stream thread with records buffered goes on processing and committing them
 * without polling for up to half of {@code max.poll.interval.ms} (150 s by default), and only a poll fetches;
 * its wall-clock punctuations still run. At 256 slots per worker the matcher's thread went 10 s and more
 * without a poll (each commit's markers spread over hundreds of task partitions): the heartbeats waited
 * unfetched on the broker, the gate's read clock counted down as if it had caught up, and it called every
 * worker silent at once (issue 11).
 *
 * <p>A record appended before a poll began is fetched by the end of the next poll, give or take one fetch's
 * round trip: the poll sends, or already has in flight, a fetch for every partition it holds nothing
 * buffered for, and that fetch answers with everything appended before it. So the thread has fetched up to
 * the start of its previous poll ({@link #fetchedUpTo}). Kept per thread (each stream thread polls its own
 * main consumer, {@link StreamsClients}, and runs its punctuations on itself), like {@link Commits}' asks.
 */
public final class Polls {
    /** Per stream thread: the start times of its last two polls, latest first (0: none). */
    private static final ThreadLocal<long[]> STARTS = new ThreadLocal<>();

    private Polls() {
    }

    /** The calling thread's main consumer begins a poll at {@code now} (also: tests of stages that read {@link #fetchedUpTo}). */
    public static void polling(long now) {
        long[] s = STARTS.get();
        if (s == null) {
            s = new long[2];
            STARTS.set(s);
        }
        s[1] = s[0];
        s[0] = now;
    }

    /**
     * The time up to which the calling stream thread has fetched its input: the start of its previous poll
     * (0 after a single poll). A thread that never polled a main consumer (a topology test driver) has no
     * bound: {@link Long#MAX_VALUE}.
     */
    public static long fetchedUpTo() {
        long[] s = STARTS.get();
        return s == null ? Long.MAX_VALUE : s[1];
    }

    /** Forgets the calling thread's polls (tests). */
    public static void reset() {
        STARTS.remove();
    }
}
