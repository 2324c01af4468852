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

    /**
     * Whether an expired lease counts towards the worker's cool-down: yes if the worker took the task up
     * ({@code takenUp}: a heartbeat listed it) and let it lapse without a result (it sat on it, or dropped
     * it), or if the worker was silent for the lease's whole last span (no heartbeat since the lease was
     * granted or last renewed: {@code lastSeenAt < deadline - leaseMs}). A live worker whose task expired
     * waiting in its backlog is busy, not dead: it loses the lease and the penalty, not its place.
     */
    public static boolean countsTowardsCoolDown(long deadline, long leaseMs, long lastSeenAt, boolean takenUp) {
        return takenUp || lastSeenAt < deadline - leaseMs;
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
