package io.agora.matcher;

/**
 * Lease arithmetic: a task's lease runs {@code leaseMs} from its assignment and is renewed to
 * {@code now + leaseMs} by every heartbeat that lists it, {@code now} being the matcher's clock
 * when it handles the heartbeat (never the time the worker writes in it), and never past
 * {@link #latestDeadline}: a worker cannot keep a task it does not run by listing it. A replica
 * whose lease expires is tried again after a backoff growing with the attempt, until its attempts
 * run out.
 */
public final class Leases {
    private Leases() {
    }

    public static long initialDeadline(long assignedAt, long leaseMs) {
        return assignedAt + leaseMs;
    }

    /** Renewal at the matcher's time {@code now} never shortens a lease. */
    public static long renewed(long currentDeadline, long now, long leaseMs) {
        return Math.max(currentDeadline, now + leaseMs);
    }

    /** {@link #renewed(long, long, long)}, but never past {@code latest} (a lease already past it stays). */
    public static long renewed(long currentDeadline, long now, long leaseMs, long latest) {
        return Math.max(currentDeadline, Math.min(now + leaseMs, latest));
    }

    /**
     * The furthest a lease is renewed: the task runs at most its {@code timeoutMs} (the worker stops it
     * then and reports TIMEOUT), plus one lease and the worker grace for starting and reporting.
     */
    public static long latestDeadline(long assignedAt, long timeoutMs, long leaseMs, long graceMs) {
        return assignedAt + Math.max(0, timeoutMs) + leaseMs + graceMs;
    }

    public static boolean expired(long deadline, long now) {
        return now > deadline;
    }

    /** Earliest time attempt {@code nextAttempt} (1 = the first retry) may be placed. */
    public static long retryAt(long now, int nextAttempt, long backoffMs) {
        return now + backoffMs * Math.max(0, nextAttempt);
    }

    /** Replicas and attempts are numbered from 0; attempt {@code a} is allowed while a < maxAttempts. */
    public static boolean mayRetry(int nextAttempt, int maxAttempts) {
        return nextAttempt < maxAttempts;
    }

    public static String taskId(String jobId, int replica, int attempt) {
        return jobId + "/" + replica + "/" + attempt;
    }

    /** The job id of a task id {@code <jobId>/<replica>/<attempt>}; job ids may contain '/'. */
    public static String jobOf(String taskId) {
        int b = taskId.lastIndexOf('/');
        int a = b <= 0 ? -1 : taskId.lastIndexOf('/', b - 1);
        return a < 0 ? taskId : taskId.substring(0, a);
    }
}
