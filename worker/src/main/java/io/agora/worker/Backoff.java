package io.agora.worker;

import java.util.concurrent.Callable;
import java.util.function.Predicate;

/** Exponential backoff: {@code initialMs * 2^attempt}, capped at {@code maxMs}. */
public record Backoff(long initialMs, long maxMs) {

    public long delayMs(int attempt) {
        long d = initialMs << Math.min(attempt, 30);
        return d <= 0 ? maxMs : Math.min(d, maxMs);
    }

    /**
     * Calls {@code call} up to {@code attempts} times, sleeping between attempts while the failure
     * is {@code retryable}; the last failure is rethrown.
     */
    public <T> T retry(int attempts, Predicate<Exception> retryable, Callable<T> call) throws Exception {
        for (int i = 0; ; i++) {
            try {
                return call.call();
            } catch (Exception e) {
                if (i + 1 >= attempts || !retryable.test(e)) {
                    throw e;
                }
                Thread.sleep(delayMs(i));
            }
        }
    }
}
