package io.agora.worker;

import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Refuses replayed signed messages: remembers, per sender, the highest sequence number it
 * accepted and refuses any message whose {@code seq} is not above it. Keep one guard per
 * message stream (registrations, heartbeats, results): each stream is ordered per sender, the
 * streams are not ordered against each other.
 */
public final class ReplayGuard {
    private final ConcurrentHashMap<String, Long> highest = new ConcurrentHashMap<>();

    /** True, and remembers {@code seq}, when it is above every seq seen from {@code sender}. */
    public boolean accept(String sender, long seq) {
        boolean[] accepted = {false};
        highest.compute(sender, (k, last) -> {
            if (last == null || seq > last) {
                accepted[0] = true;
                return seq;
            }
            return last;
        });
        return accepted[0];
    }

    public OptionalLong highest(String sender) {
        Long v = highest.get(sender);
        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }
}
