package io.agora.market;

import java.util.regex.Pattern;

/**
 * Sizes and shapes the apps check a record against at their door, declared once: what the matcher
 * admits (and holds escrow for), the verifier must keep too, or the job's money would be stuck.
 */
public final class Limits {
    /** Characters of an id (job, event, client, pool, worker). */
    public static final int ID_MAX = 200;
    /** Characters of an image reference: a job's image as ingest-api admits it, an entry of a worker's allowed images. */
    public static final int IMAGE_MAX = 255;
    /** Replicas of a job, and attempts of a replica. */
    public static final int REPLICAS_MAX = 1000;
    /**
     * Task ids one heartbeat lists at most: the matcher dead-letters a longer list (and a worker whose every
     * heartbeat is refused goes silent), so a worker holds no more tasks at once and lists those not done first.
     */
    public static final int HEARTBEAT_TASKS_MAX = 256;
    /** An id: visible ASCII without '/' (task ids are {@code <jobId>/<replica>/<attempt>}) or '|'. */
    private static final Pattern ID = Pattern.compile("[\\x21-\\x7e&&[^/|]]{1," + ID_MAX + "}");

    private Limits() {
    }

    public static boolean isId(String v) {
        return v != null && ID.matcher(v).matches();
    }
}
