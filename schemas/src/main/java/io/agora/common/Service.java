package io.agora.common;

import java.util.Map;

/** A long-running part of the market started by {@link Launcher}. */
public interface Service extends AutoCloseable {
    void start();

    /** "UP" when healthy; anything else is reported as unhealthy with the details. */
    default Map<String, Object> health() {
        return Map.of("status", "UP");
    }

    /** Prometheus text exposition lines, without the trailing newline. */
    default String metrics() {
        return "";
    }

    @Override
    void close();
}
