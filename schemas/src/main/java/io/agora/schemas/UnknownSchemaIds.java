package io.agora.schemas;

import io.apicurio.registry.rest.client.exception.RestClientException;
import org.apache.kafka.common.errors.SerializationException;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a registry record's wire-format header says about whose fault a failed read is, before and
 * after asking the registry. The header is {@code 00} and a 4-byte content id; a record without it
 * (too short, another first byte) is the record's fault, said in those words (Apicurio itself would
 * report it as {@code IllegalStateException: artifact reference cannot be null}).
 *
 * <p>A content id the registry answers 404 for is ambiguous: a registry that lags (a replica that has
 * not seen the id yet, storage being restored) or a forged or foreign record. The rule: the id is an
 * {@link Outage} ({@link NotYetKnown}: retried, nothing dead-lettered) for {@link #GRACE_MS} from the
 * first record that carried it in this process; after that every record carrying it is the record's
 * fault and goes to the DLQ with {@code schema id N unknown to the registry for 60 s}, to be replayed
 * once the registry holds the schema again. An id below 1 is never one the registry handed out
 * (content ids start at 1): the record's fault at once. So no record holds its partition longer than
 * the grace (a forged id costs one wait per id, and only a topic's owners may write it), and a
 * registry that answers within the grace loses no event.
 */
final class UnknownSchemaIds {
    /** How long an id the registry says it does not know is asked for again before its records are dead-lettered. */
    static final long GRACE_MS = 60_000;
    private static final int MAX_DEPTH = 32;
    /** Ids in their grace; bounded by forgetting the oldest when full (a flood of forged ids cannot grow it). */
    private static final int MAX_TRACKED = 1024;

    private final long graceMs;
    private final Map<Integer, Long> unknownSince = new ConcurrentHashMap<>();

    UnknownSchemaIds(long graceMs) {
        this.graceMs = graceMs;
    }

    /** Why {@code data} is not a registry record (no wire-format header), or null when it has one. */
    static String headerProblem(byte[] data) {
        if (data.length <= 5) {
            return "not a registry record: " + data.length + " bytes, shorter than the 5-byte header (magic byte 0x00, schema id)";
        }
        if (data[0] != 0) {
            return String.format("not a registry record: first byte 0x%02x, not the magic byte 0x00", data[0] & 0xff);
        }
        return null;
    }

    /** The content id in a record's header ({@link #headerProblem} null). */
    static int id(byte[] data) {
        return ((data[1] & 0xff) << 24) | ((data[2] & 0xff) << 16) | ((data[3] & 0xff) << 8) | (data[4] & 0xff);
    }

    /** Why an id in a header cannot be a registry's, or null. */
    static String idProblem(int id) {
        return id < 1 ? "schema id " + id + " in the header: the registry's ids start at 1" : null;
    }

    /**
     * What to throw for {@code failure}, raised reading a record with schema {@code id} at {@code nowMs}:
     * {@link NotYetKnown} while the registry says 404 within the grace, a {@link SerializationException}
     * naming the id after it, {@code failure} itself otherwise (an outage is told by {@link Outage}).
     */
    RuntimeException judge(int id, RuntimeException failure, long nowMs) {
        if (!notFound(failure)) {
            return failure;
        }
        if (unknownSince.size() >= MAX_TRACKED && !unknownSince.containsKey(id)) {
            unknownSince.entrySet().stream().min(Map.Entry.comparingByValue())
                    .ifPresent(oldest -> unknownSince.remove(oldest.getKey()));
        }
        long since = unknownSince.computeIfAbsent(id, k -> nowMs);
        long asked = nowMs - since;
        if (asked < graceMs) {
            return new NotYetKnown(id, asked, graceMs, failure);
        }
        return new SerializationException("schema id " + id + " unknown to the registry for " + (graceMs / 1000) + " s", failure);
    }

    /** The registry answered for {@code id}: a later 404 for it starts a new grace. */
    void known(int id) {
        if (!unknownSince.isEmpty()) {
            unknownSince.remove(id);
        }
    }

    /** Whether the registry answered 404 (no such content, artifact or version) somewhere in the cause chain. */
    static boolean notFound(Throwable failure) {
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        int depth = 0;
        for (Throwable t = failure; t != null && depth < MAX_DEPTH && seen.put(t, true) == null; t = t.getCause(), depth++) {
            if (t instanceof RestClientException rc && rc.getError() != null && rc.getError().getErrorCode() != null
                    && rc.getError().getErrorCode() == 404) {
                return true;
            }
        }
        return false;
    }

    /** A schema id the registry does not know yet, within its grace: an {@link Outage}, retried. */
    static final class NotYetKnown extends SerializationException {
        NotYetKnown(int id, long askedMs, long graceMs, Throwable cause) {
            super("the schema registry does not know schema id " + id + " yet (asked for " + askedMs / 1000
                    + " s, dead-lettered after " + graceMs / 1000 + " s)", cause);
        }
    }
}
