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

    /**
     * Everything {@link Matching} reads of a request's job: its requirements and the spec's image and
     * limits ({@link Eligibility}, {@link Scoring}, {@link Pricing}). Over the same workers, two requests
     * whose shapes, counts, exclusions and allowlists are equal get the same answer, so a caller that saw
     * one shape fail need not ask again for the next job of that shape while the workers stay as they were.
     */
    public static final class Shape {
        private final Requirements requirements;
        private final String image;
        private final double cpus;
        private final int memoryMb;
        private final int gpus;
        private final boolean network;
        private final long timeoutMs;
        private final int hash;

        private Shape(JobSpec spec, Requirements requirements) {
            this.requirements = requirements;
            this.image = spec.getImage();
            this.cpus = spec.getCpus();
            this.memoryMb = spec.getMemoryMb();
            this.gpus = spec.getGpus();
            this.network = spec.getNetwork();
            this.timeoutMs = spec.getTimeoutMs();
            this.hash = java.util.Objects.hash(requirements, image, cpus, memoryMb, gpus, network, timeoutMs);
        }

        public static Shape of(JobRequested job) {
            return new Shape(job.getSpec(), job.getRequirements());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Shape s && hash == s.hash && memoryMb == s.memoryMb && gpus == s.gpus
                    && network == s.network && timeoutMs == s.timeoutMs && Double.compare(cpus, s.cpus) == 0
                    && java.util.Objects.equals(image, s.image) && java.util.Objects.equals(requirements, s.requirements);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
