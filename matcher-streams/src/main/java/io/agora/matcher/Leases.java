package io.agora.matcher;

/**
 * Lease arithmetic: a task's lease runs {@code leaseMs} from its assignment and is renewed to
 * {@code heartbeat time + leaseMs} by every heartbeat that lists it; a replica whose lease
 * expires is tried again after a backoff growing with the attempt, until its attempts run out.
 */
public final class Leases {
    private Leases() {
    }

    public static long initialDeadline(long assignedAt, long leaseMs) {
        return assignedAt + leaseMs;
    }

    /** Renewal never shortens a lease (heartbeats may arrive out of order). */
    public static long renewed(long currentDeadline, long heartbeatAt, long leaseMs) {
        return Math.max(currentDeadline, heartbeatAt + leaseMs);
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
