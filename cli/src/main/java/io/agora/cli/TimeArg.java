package io.agora.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Time arguments: an ISO instant, {@code now}, or a relative {@code -1h}, {@code -30m}, {@code -7d}, {@code -90s}. */
final class TimeArg {
    private static final Pattern SHORT = Pattern.compile("(\\d+)(ms|s|m|h|d)");

    private TimeArg() {
    }

    static Instant instant(String arg, Instant now) {
        String s = arg.trim().toLowerCase(Locale.ROOT);
        if (s.equals("now")) {
            return now;
        }
        if (s.startsWith("-")) {
            return now.minus(duration(s.substring(1)));
        }
        try {
            return Instant.parse(arg.trim());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("not a time: " + arg + " (use an ISO instant like 2026-01-01T00:00:00Z, now, or -1h/-24h/-30m)");
        }
    }

    /** {@code 90s}, {@code 5m}, {@code 1h}, {@code 2d}, {@code 500ms} or ISO-8601 {@code PT5M}. */
    static Duration duration(String arg) {
        String s = arg.trim().toLowerCase(Locale.ROOT);
        Matcher m = SHORT.matcher(s);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        try {
            return Duration.parse(arg.trim().toUpperCase(Locale.ROOT));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("not a duration: " + arg + " (use 90s, 5m, 1h, 2d or PT5M)");
        }
    }
}
