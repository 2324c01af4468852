package io.agora.schemas;

import java.util.List;
import java.util.Optional;

/**
 * Which images a worker runs at all (its {@code allowed.images}): the worker's own check before a task, and
 * the matcher's, which the worker tells it in its registration ({@code WorkerCapabilities.allowedImages}). An
 * entry admits the image it names exactly ({@code agora/busybox:1}, {@code localhost:5000/agora/busybox@sha256:…}),
 * or, when it is a repository without tag or digest ({@code localhost:5000/agora/busybox}), every tag and digest of
 * it: the market resolves a registry image's tag to a digest at submit, so a tag entry never meets such a job. No
 * entries (null: not told, or empty) admit any image. Where the image comes from (present, or pulled) is
 * {@link PullAllowlist}'s rule.
 */
public final class AllowedImages {
    private AllowedImages() {
    }

    /** Whether {@code entries} admit {@code image}. */
    public static boolean admits(List<String> entries, String image) {
        return admits(entries, image, repository(image));
    }

    /**
     * {@link #admits(List, String)} with the image's {@link #repository} worked out once (the matcher's fast path
     * asks it of many workers).
     */
    public static boolean admits(List<String> entries, String image, String repository) {
        return entries == null || entries.isEmpty() || entries.contains(image)
                || (repository != null && entries.contains(repository));
    }

    /** The repository {@code registry/name} an entry may name to admit {@code image}; null when it is no image reference. */
    public static String repository(String image) {
        return ImageRef.parse(image).map(ImageRef::name).orElse(null);
    }

    /** {@code image}, when {@code entries} do not admit it. */
    public static Optional<String> excluded(List<String> entries, String image) {
        return admits(entries, image) ? Optional.empty() : Optional.ofNullable(image);
    }
}
