package io.agora.verifier;

import io.agora.market.Limits;
import io.agora.events.JobCommand;
import io.agora.events.JobTerms;
import io.agora.events.SlashResult;
import io.agora.events.SlashShare;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The verifier's bounds at the door: the size and shape of every field it keeps (in its stores, in
 * {@link JobState}, or in the records it emits) from a record it did not make. {@link JobCase}
 * checks a record before anything is written; one out of bounds is dead-lettered with its first
 * problem as the reason ({@code out of bounds: ...}) and its job goes on without it. So no string
 * longer than {@link #ID_MAX} characters reaches {@link JobState}, and a kept result stays below
 * 700 KB, under the broker's record size (1 MB).
 * <ul>
 *   <li>ids: job, event, client ids and pools are 1 to {@link #ID_MAX} visible ASCII characters
 *   without {@code /} or {@code |} (they separate the parts of task ids and store keys); worker
 *   ids are 1 to {@link #ID_MAX} base64url characters (an Ed25519 public key is 43); a task id is
 *   {@code <jobId>/<replica>/<attempt>} of its record's own fields (for a result, {@link JobCase}
 *   says {@code malformed task id}).</li>
 *   <li>counts: replica and attempt numbers in [0, {@link #REPLICAS_MAX}) (ingest-api admits at
 *   most 1000 results per job), redundancy and maxTotalResults in [1, {@link #REPLICAS_MAX}],
 *   quorum in [0, {@link #REPLICAS_MAX}], durations and escrow not negative.</li>
 *   <li>a result: {@code outputSha256} 64 lowercase hex digits (empty allowed when it does not
 *   vote), stdout and stderr at most {@link #OUTPUT_MAX_BYTES} each in UTF-8 (the worker inlines
 *   64 KiB, which its decoding may grow to 192 KiB), status reason at most {@link #TEXT_MAX}
 *   characters, at most {@link #FILES_MAX} output files with paths of at most {@link #PATH_MAX}
 *   characters and 64-hex hashes, a signature of at most {@link #SIGNATURE_MAX} bytes.</li>
 *   <li>a command: its reason at most {@link #TEXT_MAX} characters, replica -1 or a replica number.</li>
 *   <li>a slash result: ids as above, no negative amount, at most {@link #REPLICAS_MAX} honest shares.</li>
 * </ul>
 */
final class Bounds {
    static final int ID_MAX = Limits.ID_MAX;
    static final int REPLICAS_MAX = Limits.REPLICAS_MAX;
    static final int OUTPUT_MAX_BYTES = 256 * 1024;
    static final int TEXT_MAX = 16 * 1024;
    static final int FILES_MAX = 64;
    static final int PATH_MAX = 512;
    static final int SIGNATURE_MAX = 256;

    private static final Pattern WORKER = Pattern.compile("[A-Za-z0-9_-]{1," + ID_MAX + "}");
    private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");

    private Bounds() {
    }

    /** A worker's result: every field, before it is parked, counted or kept. */
    static Optional<String> of(TaskResult r) {
        return first(
                id("jobId", r.getJobId()),
                id("eventId", r.getEventId()),
                id("pool", r.getPool()),
                worker("workerId", r.getWorkerId()),
                count("replica", r.getReplica(), 0, REPLICAS_MAX - 1),
                count("attempt", r.getAttempt(), 0, REPLICAS_MAX - 1),
                JobCase.hasOutput(r) || !r.getOutputSha256().isEmpty() ? hash("outputSha256", r.getOutputSha256()) : null,
                utf8("stdout", r.getStdout(), OUTPUT_MAX_BYTES),
                utf8("stderr", r.getStderr(), OUTPUT_MAX_BYTES),
                r.getStatusReason() == null ? null : text("statusReason", r.getStatusReason()),
                files(r.getOutputFiles()),
                r.getDurationMs() < 0 ? "durationMs " + r.getDurationMs() + " is negative" : null,
                r.getSignature().remaining() > SIGNATURE_MAX ? "signature over " + SIGNATURE_MAX + " bytes" : null);
    }

    /** A task from the matcher: what a result of it would put in {@link JobState}, and its job. */
    static Optional<String> of(TaskAssigned t) {
        return first(
                job(t.getJobId(), t.getTerms()),
                worker("workerId", t.getWorkerId()),
                count("replica", t.getReplica(), 0, REPLICAS_MAX - 1),
                count("attempt", t.getAttempt(), 0, REPLICAS_MAX - 1),
                taskId(t.getTaskId(), t.getJobId(), t.getReplica(), t.getAttempt()));
    }

    /** What the verifier needs to hold and settle a job's escrow: its id and its terms. */
    static Optional<String> ofJob(String jobId, JobTerms terms) {
        return first(job(jobId, terms));
    }

    private static String job(String jobId, JobTerms terms) {
        return firstOf(
                id("jobId", jobId),
                id("clientId", terms.getClientId()),
                id("pool", terms.getPool()),
                count("redundancy", terms.getRedundancy(), 1, REPLICAS_MAX),
                count("maxTotalResults", terms.getMaxTotalResults(), terms.getRedundancy(), REPLICAS_MAX),
                count("quorum", terms.getQuorum(), 0, REPLICAS_MAX),
                terms.getEscrowMicros() < 0 ? "escrowMicros " + terms.getEscrowMicros() + " is negative" : null);
    }

    private static String firstOf(String... problems) {
        for (String p : problems) {
            if (p != null) {
                return p;
            }
        }
        return null;
    }

    /** A client's or the matcher's command. */
    static Optional<String> of(JobCommand c) {
        return first(
                id("jobId", c.getJobId()),
                id("clientId", c.getClientId()),
                count("replica", c.getReplica(), -1, REPLICAS_MAX - 1),
                c.getReason() == null ? null : text("reason", c.getReason()));
    }

    /** The matcher gate's result of a SLASH order: what the settlement receipt will say. */
    static Optional<String> of(SlashResult r) {
        var t = r.getTaken();
        String shares = t.getHonestShares().size() > REPLICAS_MAX ? "over " + REPLICAS_MAX + " honest shares" : null;
        for (SlashShare h : t.getHonestShares()) {
            shares = shares != null ? shares : worker("an honest share's workerId", h.getWorkerId());
            shares = shares != null ? shares : count("an honest share", h.getMicros(), 0, Long.MAX_VALUE);
        }
        return first(
                id("jobId", r.getJobId()),
                id("eventId", r.getEventId()),
                id("clientId", r.getClientId()),
                worker("workerId", t.getWorkerId()),
                count("reclaimMicros", t.getReclaimMicros(), 0, Long.MAX_VALUE),
                count("slashedMicros", t.getSlashedMicros(), 0, Long.MAX_VALUE),
                count("clientMicros", t.getClientMicros(), 0, Long.MAX_VALUE),
                count("burnedMicros", t.getBurnedMicros(), 0, Long.MAX_VALUE),
                shares);
    }

    private static Optional<String> first(String... problems) {
        return Optional.ofNullable(firstOf(problems)).map(p -> "out of bounds: " + p);
    }

    private static String id(String field, String v) {
        return Limits.isId(v) ? null
                : field + " is not 1 to " + ID_MAX + " visible ASCII characters without '/' or '|'" + length(v);
    }

    private static String worker(String field, String v) {
        return WORKER.matcher(v).matches() ? null : field + " is not 1 to " + ID_MAX + " base64url characters" + length(v);
    }

    private static String hash(String field, String v) {
        return HASH.matcher(v).matches() ? null : field + " is not 64 lowercase hex digits" + length(v);
    }

    private static String count(String field, long v, long min, long max) {
        return v >= min && v <= max ? null : field + " " + v + " is not in [" + min + ", " + max + "]";
    }

    private static String taskId(String taskId, String jobId, int replica, int attempt) {
        String expected = jobId + "/" + replica + "/" + attempt;
        return expected.equals(taskId) ? null : "taskId is not " + expected + length(taskId);
    }

    private static String text(String field, String v) {
        return v.length() <= TEXT_MAX ? null : field + " over " + TEXT_MAX + " characters" + length(v);
    }

    private static String utf8(String field, String v, int maxBytes) {
        return utf8Length(v, maxBytes) <= maxBytes ? null : field + " over " + maxBytes + " bytes";
    }

    private static String files(Map<String, String> files) {
        if (files.size() > FILES_MAX) {
            return "outputFiles has " + files.size() + " entries, over " + FILES_MAX;
        }
        for (Map.Entry<String, String> f : files.entrySet()) {
            if (f.getKey().isEmpty() || f.getKey().length() > PATH_MAX) {
                return "an outputFiles path is empty or over " + PATH_MAX + " characters";
            }
            if (!HASH.matcher(f.getValue()).matches()) {
                return "outputFiles hash of a path is not 64 lowercase hex digits";
            }
        }
        return null;
    }

    /** Only long values are worth their length in the reason (never the value: it may be huge). */
    private static String length(String v) {
        return v.length() > ID_MAX ? " (" + v.length() + " characters)" : "";
    }

    /** UTF-8 length of {@code s}, counted up to just past {@code limit}. */
    static long utf8Length(String s, int limit) {
        if (s.length() > limit) {
            return s.length(); // every character is at least one byte
        }
        long n = 0;
        for (int i = 0; i < s.length() && n <= limit; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
