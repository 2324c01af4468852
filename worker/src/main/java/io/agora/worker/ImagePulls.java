package io.agora.worker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which images this worker pulls, and which pulled images it keeps. An image is pulled only by
 * digest ({@code registry/name@sha256:<64 hex>}; the market resolves tags at submit) and only
 * from an allowlisted registry or repository: an entry {@code localhost:5000} allows every
 * repository of that registry, {@code localhost:5000/agora/} only those under that path. An image
 * without a registry (a local one such as {@code agora/busybox:1}) is never pulled: it runs when
 * present. Pulled images form a bounded cache: beyond {@code capacity} the least recently used are
 * given back ({@link #used}).
 */
final class ImagePulls {
    private static final Pattern DIGEST = Pattern.compile("@sha256:[0-9a-f]{64}$");

    private final List<String> allowed;
    private final int capacity;
    private final LinkedHashMap<String, Boolean> cache = new LinkedHashMap<>(16, 0.75f, true);

    ImagePulls(List<String> allowed, int capacity) {
        this.allowed = List.copyOf(allowed);
        this.capacity = Math.max(1, capacity);
    }

    /** The registry an image names (its first component when it has a dot, a colon or is localhost). */
    static Optional<String> registry(String image) {
        int slash = image.indexOf('/');
        if (slash < 0) {
            return Optional.empty();
        }
        String first = image.substring(0, slash);
        return first.contains(".") || first.contains(":") || first.equals("localhost") ? Optional.of(first) : Optional.empty();
    }

    /** Why this worker does not pull {@code image}, if it does not. */
    Optional<String> refusal(String image) {
        if (registry(image).isEmpty()) {
            return Optional.of("image " + image + " is not present on this worker (images without a registry are not pulled)");
        }
        if (!DIGEST.matcher(image).find()) {
            return Optional.of("image " + image + " is not named by digest (name@sha256:...): this worker pulls by digest only");
        }
        String name = image.substring(0, image.indexOf('@'));
        for (String a : allowed) {
            boolean registryWide = !a.contains("/");
            if (registryWide ? name.startsWith(a + "/") : (name + "/").startsWith(a.endsWith("/") ? a : a + "/")) {
                return Optional.empty();
            }
        }
        return Optional.of("image " + image + " is outside this worker's allowlist of registries " + allowed);
    }

    /** Records a run of a pulled {@code image}; the pulled images to give back, least recently used first. */
    synchronized List<String> used(String image) {
        cache.put(image, Boolean.TRUE);
        List<String> evicted = new ArrayList<>();
        var it = cache.keySet().iterator();
        while (cache.size() - evicted.size() > capacity && it.hasNext()) {
            String oldest = it.next();
            if (!oldest.equals(image)) {
                evicted.add(oldest);
            }
        }
        evicted.forEach(cache::remove);
        return evicted;
    }

    /** The pulled images held, most recently used last. */
    synchronized List<String> cached() {
        return List.copyOf(cache.keySet());
    }
}
