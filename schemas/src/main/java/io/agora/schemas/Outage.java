package io.agora.schemas;

import io.apicurio.registry.rest.client.exception.RestClientException;
import io.apicurio.rest.client.error.ApicurioRestClientException;
import org.apache.kafka.common.errors.RetriableException;

import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Tells a record's own fault from an outage of something the record depends on. A record that
 * is at fault goes to {@code agora.dlq}; during an outage (the schema registry unreachable or
 * answering 5xx, the network, PostgreSQL down) nothing is dead-lettered: the record is retried
 * until the outage ends, so no event is lost because a server was away.
 *
 * <p>The decision reads the whole cause chain, because every layer wraps: Kafka's
 * {@code SerializationException} around Apicurio's client error, a stream task's
 * {@code StreamsException} around a processor's. Apicurio's HTTP client drops the I/O cause
 * (it reports a connection failure as a {@code RestClientException} without HTTP status, named
 * after the Java exception), so a registry error without status counts as unreachable. Another 4xx
 * from the registry is the record's fault; an unknown schema id (404) is an outage for a grace
 * period, then the record's fault ({@link UnknownSchemaIds}).
 */
public final class Outage {
    private static final int MAX_DEPTH = 32;
    /** Transport packages: an {@link IOException} from these is the network, never a malformed record (whose EOF is java.io). */
    private static final Set<String> NETWORK_PACKAGES = Set.of("java.net", "java.net.http", "javax.net.ssl");

    /** The longest pause between two reads of a record during one outage. */
    public static final long MAX_PAUSE_MS = 30_000;
    /** How long after its last failure an outage is still named on {@code /health}. */
    public static final long RECENT_MS = 2 * MAX_PAUSE_MS;

    private Outage() {
    }

    /**
     * The pause before the {@code attempt}-th read again (from 0) of a record that met the same outage:
     * 0.5 s doubling to {@link #MAX_PAUSE_MS}. Every consumer that waits out an outage uses it.
     */
    public static long pauseMs(int attempt) {
        return Math.min(MAX_PAUSE_MS, 500L << Math.max(0, Math.min(attempt, 10)));
    }

    /** What is out, in words for the log and {@code /health}; empty when the failure is the record's own. */
    public static Optional<String> of(Throwable failure) {
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        int depth = 0;
        for (Throwable t = failure; t != null && depth < MAX_DEPTH && seen.put(t, true) == null; t = t.getCause(), depth++) {
            String found = outage(t);
            if (found != null) {
                return Optional.of(found);
            }
        }
        return Optional.empty();
    }

    public static boolean isOutage(Throwable failure) {
        return of(failure).isPresent();
    }

    private static String outage(Throwable t) {
        if (t instanceof UnknownSchemaIds.NotYetKnown) {
            return t.getMessage();
        }
        if (t instanceof RestClientException rc) {
            Integer code = rc.getError() == null ? null : rc.getError().getErrorCode();
            if (code == null || code == 0 || code >= 500 || code == 401 || code == 403 || code == 408 || code == 429) {
                String name = rc.getError() == null ? null : rc.getError().getName();
                return "schema registry unavailable (" + (code == null || code == 0 ? "" : "HTTP " + code + " ")
                        + (name == null ? "" : name + ": ") + rc.getMessage() + ")";
            }
            return null;
        }
        if (t instanceof ApicurioRestClientException) {
            return "schema registry unavailable (" + t + ")";
        }
        if (t instanceof IOException && NETWORK_PACKAGES.contains(t.getClass().getPackageName())) {
            return "network failure (" + t + ")";
        }
        if (t instanceof RetriableException) {
            return "Kafka unavailable (" + t + ")";
        }
        if (t instanceof SQLException sql && isDatabaseOutage(sql)) {
            return "PostgreSQL unavailable (" + sql.getSQLState() + ": " + sql.getMessage() + ")";
        }
        return null;
    }

    /**
     * Connection (08), insufficient resources (53), operator intervention (57: shutdown, crash
     * recovery) and transaction rollback (40: serialization failure, deadlock) are the database's
     * state; data (22) and integrity (23) errors are the record's.
     */
    static boolean isDatabaseOutage(SQLException e) {
        if (e instanceof SQLTransientException || e instanceof SQLRecoverableException) {
            return true;
        }
        String state = e.getSQLState();
        return state != null && (state.startsWith("08") || state.startsWith("53") || state.startsWith("57")
                || state.startsWith("40"));
    }
}
