package io.agora.infra.chaos;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** How long a stream of event times (sorted) stalled in a window: chaos's measure of a fault's cost. */
final class Stalls {
    private Stalls() {
    }

    /** The first time at or after {@code from}, or null. */
    static Instant firstAfter(List<Instant> sorted, Instant from) {
        return sorted.stream().filter(t -> !t.isBefore(from)).findFirst().orElse(null);
    }

    /**
     * The longest stretch in {@code [from, until]} without an event: counting from {@code from} to
     * the first event, between events, and from the last event to {@code until}.
     */
    static Duration longestGap(List<Instant> sorted, Instant from, Instant until) {
        Instant last = from;
        Duration longest = Duration.ZERO;
        for (Instant t : sorted) {
            if (t.isBefore(from)) {
                continue;
            }
            Instant end = t.isAfter(until) ? until : t;
            Duration gap = Duration.between(last, end);
            if (gap.compareTo(longest) > 0) {
                longest = gap;
            }
            if (!t.isBefore(until)) {
                return longest;
            }
            last = t;
        }
        Duration tail = Duration.between(last, until);
        return tail.compareTo(longest) > 0 ? tail : longest;
    }
}
