package io.agora.market;

import io.agora.events.JobRequested;
import io.agora.events.JobSpec;
import io.agora.events.Requirements;

import java.util.Set;

/**
 * One matching question: place {@code count} replicas of a job whose spec and requirements are
 * given, on distinct workers outside {@code excluded} (workers already holding a replica of the
 * job and workers that failed the replica), inside the pool's allowlist if it has one.
 *
 * @param allowlist the pool's allowlist, or null for an open pool
 */
public record MatchRequest(JobSpec spec, Requirements requirements, int count, Set<String> excluded,
                           Set<String> allowlist) {
    public MatchRequest {
        excluded = Set.copyOf(excluded);
        allowlist = allowlist == null ? null : Set.copyOf(allowlist);
    }

    public static MatchRequest of(JobRequested job, int count, Set<String> excluded, Set<String> allowlist) {
        return new MatchRequest(job.getSpec(), job.getRequirements(), count, excluded, allowlist);
    }
}
