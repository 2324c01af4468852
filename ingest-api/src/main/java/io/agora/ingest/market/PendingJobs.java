package io.agora.ingest.market;

import io.agora.ingest.config.IngestSettings;
import jakarta.inject.Singleton;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Jobs this instance produced that the sink may not have written yet, so that a status poll
 * right after submit answers "submitted" instead of 404. Bounded: oldest entries drop first.
 */
@Singleton
public class PendingJobs {
    private final Map<String, Pending> jobs;

    public PendingJobs(IngestSettings settings) {
        int max = Math.max(16, settings.pendingJobs());
        this.jobs = new LinkedHashMap<>(256, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Pending> eldest) {
                return size() > max;
            }
        };
    }

    public synchronized void remember(String jobId, String clientId, String pool, Instant at) {
        jobs.put(jobId, new Pending(clientId, pool, at));
    }

    public synchronized Optional<Pending> get(String jobId) {
        return Optional.ofNullable(jobs.get(jobId));
    }

    public record Pending(String clientId, String pool, Instant submittedAt) {
    }
}
