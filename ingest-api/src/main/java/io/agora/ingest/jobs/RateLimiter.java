package io.agora.ingest.jobs;

import io.agora.ingest.api.ApiException;
import io.agora.ingest.config.IngestSettings;
import io.micronaut.http.HttpStatus;
import jakarta.inject.Singleton;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * One token bucket per client, shared by every call that makes the market work for the client
 * (submit, cancel, dispute, match preview); an empty bucket answers 429 with {@code Retry-After}
 * in whole seconds.
 */
@Singleton
public class RateLimiter {
    private final Map<String, TokenBucket> buckets = new ConcurrentHashMap<>();
    private final double perSecond;
    private final int burst;
    private final LongSupplier nanoClock;

    public RateLimiter(IngestSettings settings) {
        this(settings.rateLimitPerSecond(), settings.rateLimitBurst(), System::nanoTime);
    }

    public RateLimiter(double perSecond, int burst, LongSupplier nanoClock) {
        this.perSecond = perSecond;
        this.burst = burst;
        this.nanoClock = nanoClock;
    }

    public void admit(String clientId) {
        admit(clientId, 1);
    }

    /** Admits {@code requests} at once (a batch submit: one per job), or none: {@link TokenBucket#tryTake(int)}. */
    public void admit(String clientId, int requests) {
        long waitNanos = buckets.computeIfAbsent(clientId, c -> new TokenBucket(perSecond, burst, nanoClock)).tryTake(requests);
        if (waitNanos > 0) {
            long seconds = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
            throw new ApiException(HttpStatus.TOO_MANY_REQUESTS,
                    "rate limit exceeded: " + perSecond + " requests/s, burst " + burst,
                    List.of(), Map.of("retryAfterSeconds", seconds), seconds);
        }
    }
}
