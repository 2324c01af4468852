package io.agora.verifier;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The sweep's index: every job that needs the wall clock, by the time it does ({@link JobCase#sweepAt}: an
 * undecided job or an open dispute at its deadline, a job known only by commands when its pending cancel
 * ends), in memory. All it says is in the job records ({@code verifier-jobs}): {@link JobVerifier} builds it
 * from a scan of them at its task's first sweep and keeps it in step with every job it writes, so it costs no
 * changelog record (the store {@code verifier-open} it replaces wrote two per job, opened and decided).
 */
final class OpenJobs {
    private record Due(long at, String jobId) implements Comparable<Due> {
        @Override
        public int compareTo(Due o) {
            int c = Long.compare(at, o.at);
            return c != 0 ? c : jobId.compareTo(o.jobId);
        }
    }

    private final Map<String, Long> byJob = new HashMap<>();
    private final TreeSet<Due> byTime = new TreeSet<>();

    /** The job's next sweep at {@code sweepAt}; negative: none (decided, or dropped). */
    void put(String jobId, long sweepAt) {
        Long before = sweepAt < 0 ? byJob.remove(jobId) : byJob.put(jobId, sweepAt);
        if (before != null) {
            byTime.remove(new Due(before, jobId));
        }
        if (sweepAt >= 0) {
            byTime.add(new Due(sweepAt, jobId));
        }
    }

    /** The jobs whose sweep time is {@code now} or earlier, earliest first. */
    List<String> due(long now) {
        List<String> due = new ArrayList<>();
        for (Due d : byTime) {
            if (d.at > now) {
                break;
            }
            due.add(d.jobId);
        }
        return due;
    }

    boolean isEmpty() {
        return byJob.isEmpty();
    }

    int size() {
        return byJob.size();
    }
}
