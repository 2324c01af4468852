package io.agora.schemas;

import java.util.List;
import java.util.Optional;

/**
 * Which registries and repositories a worker pulls images from: the worker's own check before a pull, and
 * the matcher's, which the worker tells it in its registration ({@code WorkerCapabilities.pullAllowlist}).
 * An entry {@code localhost:5000} admits every repository of that registry, {@code localhost:5000/agora/}
 * (or {@code localhost:5000/agora}) only those under that path. An image without a registry (a local one
 * such as {@code agora/busybox:1}) is never pulled, so no allowlist admits it: it runs where it is present.
 */
public final class PullAllowlist {
    private PullAllowlist() {
    }

    /** Whether {@code entries} admit pulling {@code ref}: it names a registry, and that registry or a repository path above it is listed. */
    public static boolean admits(List<String> entries, ImageRef ref) {
        if (!ref.hasRegistry()) {
            return false;
        }
        String name = ref.name();
        for (String a : entries) {
            boolean registryWide = !a.contains("/");
            if (registryWide ? name.startsWith(a + "/") : (name + "/").startsWith(a.endsWith("/") ? a : a + "/")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The image name ({@code registry/repository}) a worker of {@code entries} would refuse to pull, if so: the
     * image names a registry the list does not admit. Empty when {@code entries} is null (a worker that did not
     * say: any), for a local image (not pulled) and for what is no image reference (the job's validation says).
     */
    public static Optional<String> excluded(List<String> entries, String image) {
        if (entries == null) {
            return Optional.empty();
        }
        return ImageRef.parse(image).filter(r -> r.hasRegistry() && !admits(entries, r)).map(ImageRef::name);
    }
}
