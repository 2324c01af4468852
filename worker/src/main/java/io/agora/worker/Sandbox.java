package io.agora.worker;

import io.agora.events.TaskAssigned;

import java.util.List;
import java.util.Optional;

/** Runs one task in isolation and reports what it produced; never throws for a task's own failure. */
public interface Sandbox extends AutoCloseable {

    SandboxOutcome run(TaskAssigned task);

    /** Why the sandbox cannot run tasks right now (e.g. {@code docker engine unreachable}), if so. */
    default Optional<String> probe() {
        return Optional.empty();
    }

    /** The images this sandbox can run without pulling, advertised as capabilities. */
    default List<String> localImages() {
        return List.of();
    }

    /**
     * The registries and repositories this sandbox pulls images from ({@link io.agora.schemas.PullAllowlist}),
     * registered so the matcher gives it no job of an image it would refuse to pull; empty when it runs any
     * image without pulling (a simulated sandbox): the matcher then assumes any.
     */
    default Optional<List<String>> pullAllowlist() {
        return Optional.empty();
    }

    /**
     * Content digests ({@code sha256:<hex>}) of the pulled images it holds, most recently used first,
     * at most {@code max}: reported in heartbeats, so the matcher prefers it for a job of one of them.
     */
    default List<String> imageDigests(int max) {
        return List.of();
    }

    /** Removes what an earlier run of this worker left behind (e.g. after a crash); how many. */
    default int removeLeftovers() {
        return 0;
    }

    @Override
    default void close() {
    }
}
