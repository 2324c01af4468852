package io.agora.worker;

import java.util.concurrent.Callable;
import java.util.function.LongSupplier;

/**
 * Guards a dependency the worker cannot work without (the Docker engine, the Kafka producer).
 * CLOSED lets calls through and counts consecutive failures; at the threshold it turns OPEN and
 * refuses calls for {@code openMs}; then HALF_OPEN lets one trial call through, whose success
 * closes it and whose failure opens it again. While it is not CLOSED the worker takes no tasks and
 * reports DEGRADED with {@link #lastError()}.
 */
public final class CircuitBreaker {
    public enum State { CLOSED, OPEN, HALF_OPEN }

    /** Thrown instead of calling an open dependency. */
    public static final class OpenException extends RuntimeException {
        public OpenException(String name, String lastError) {
            super(name + " circuit open: " + lastError);
        }
    }

    private final String name;
    private final int failureThreshold;
    private final long openMs;
    private final LongSupplier clock;
    private State state = State.CLOSED;
    private int failures;
    private long openedAt;
    private boolean trialInFlight;
    private String lastError = "";

    public CircuitBreaker(String name, int failureThreshold, long openMs, LongSupplier clock) {
        if (failureThreshold < 1) {
            throw new IllegalArgumentException("failureThreshold must be >= 1");
        }
        this.name = name;
        this.failureThreshold = failureThreshold;
        this.openMs = openMs;
        this.clock = clock;
    }

    public CircuitBreaker(String name, int failureThreshold, long openMs) {
        this(name, failureThreshold, openMs, System::currentTimeMillis);
    }

    public String name() {
        return name;
    }

    /** The state, moving OPEN to HALF_OPEN once the open period is over. */
    public synchronized State state() {
        if (state == State.OPEN && clock.getAsLong() - openedAt >= openMs) {
            state = State.HALF_OPEN;
            trialInFlight = false;
        }
        return state;
    }

    public synchronized boolean isClosed() {
        return state() == State.CLOSED;
    }

    /** True when a call may go ahead now; in HALF_OPEN only one trial at a time. */
    public synchronized boolean tryAcquire() {
        switch (state()) {
            case CLOSED:
                return true;
            case HALF_OPEN:
                if (trialInFlight) {
                    return false;
                }
                trialInFlight = true;
                return true;
            default:
                return false;
        }
    }

    public synchronized void onSuccess() {
        state = State.CLOSED;
        failures = 0;
        trialInFlight = false;
    }

    public synchronized void onFailure(String error) {
        lastError = error == null ? "unknown error" : error;
        State s = state();
        failures++;
        if (s == State.HALF_OPEN || failures >= failureThreshold) {
            state = State.OPEN;
            openedAt = clock.getAsLong();
            trialInFlight = false;
        }
    }

    public synchronized String lastError() {
        return lastError;
    }

    /** Runs the call through the breaker, recording its outcome. */
    public <T> T call(Callable<T> call) throws Exception {
        if (!tryAcquire()) {
            throw new OpenException(name, lastError());
        }
        try {
            T t = call.call();
            onSuccess();
            return t;
        } catch (Exception e) {
            onFailure(describe(e));
            throw e;
        }
    }

    static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String msg = root.getMessage();
        return root.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
    }
}
