package io.agora.ingest.jobs;

import java.util.function.LongSupplier;

/**
 * A token bucket: {@code burst} tokens, refilled at {@code perSecond}; one token per request
 * ({@link #tryTake(int)}: n at once).
 */
public final class TokenBucket {
    private final double perNano;
    private final double burst;
    private final LongSupplier nanoClock;
    private double tokens;
    private long last;

    public TokenBucket(double perSecond, int burst, LongSupplier nanoClock) {
        if (perSecond <= 0 || burst < 1) {
            throw new IllegalArgumentException("rate must be > 0 and burst >= 1");
        }
        this.perNano = perSecond / 1e9;
        this.burst = burst;
        this.nanoClock = nanoClock;
        this.tokens = burst;
        this.last = nanoClock.getAsLong();
    }

    /** Takes one token; returns 0 when granted, else the nanoseconds until one is available. */
    public long tryTake() {
        return tryTake(1);
    }

    /**
     * Takes {@code n} tokens at once (a batch of n requests, a probe of n MiB) when at least one is
     * there: the bucket may go below zero, and what it owes is paid back at the refill rate before
     * the next grant, so the sustained rate stays {@code perSecond} whatever the sizes, and a batch
     * larger than the burst is not refused for ever. Returns 0 when granted, else the nanoseconds
     * until a token is available.
     */
    public synchronized long tryTake(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be >= 1, not " + n);
        }
        long now = nanoClock.getAsLong();
        tokens = Math.min(burst, tokens + (now - last) * perNano);
        last = now;
        if (tokens >= 1) {
            tokens -= n;
            return 0;
        }
        return (long) Math.ceil((1 - tokens) / perNano);
    }
}
