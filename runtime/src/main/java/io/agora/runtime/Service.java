package io.agora.runtime;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/** A long-running part of the market started by {@link Launcher}. */
public interface Service extends AutoCloseable {
    void start();

    /** "UP" when healthy; anything else is reported as unhealthy with the details. */
    default Map<String, Object> health() {
        return Map.of("status", "UP");
    }

    /**
     * The registry of this service's own meters ({@link Meters#registry()}), which the
     * {@link Launcher} serves on {@code /metrics} with the JVM's; null for a service that keeps
     * none (the Launcher then serves the JVM's alone).
     */
    default PrometheusMeterRegistry meters() {
        return null;
    }

    /**
     * Admin actions the {@link Launcher}'s admin server serves as {@code POST /<name>} (any other
     * method: 405): the supplier starts the action without waiting for it and returns the JSON body
     * of the 202 answer. None by default.
     */
    default Map<String, Supplier<String>> adminActions() {
        return Map.of();
    }

    /**
     * The bearer token the admin actions require, if any ({@link Launcher} answers 401 without it);
     * none by default.
     */
    default Optional<String> adminToken() {
        return Optional.empty();
    }

    @Override
    void close();
}
