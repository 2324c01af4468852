package io.agora.worker;

import io.agora.schemas.ImageRef;
import io.agora.schemas.PullAllowlist;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;

/**
 * Which images this worker pulls, and which pulled images it keeps. An image is pulled only by
 * digest ({@code registry/name@sha256:<64 hex>}; the market resolves tags at submit) and only
 * from a registry or repository of its {@link PullAllowlist} (which it registers, so the matcher knows
 * it too). An image without a registry (a local one such as {@code agora/busybox:1}) is never pulled:
 * it runs when present. Pulled images form a bounded cache: beyond {@code capacity} the least recently used are
 * given back ({@link #used}).
 */
final class ImagePulls {
    private final List<String> allowed;
    private final int capacity;
    private final LinkedHashMap<String, Boolean> cache = new LinkedHashMap<>(16, 0.75f, true);

    ImagePulls(List<String> allowed, int capacity) {
        this.allowed = List.copyOf(allowed);
        this.capacity = Math.max(1, capacity);
    }

    /** The allowlist this worker pulls from ({@link PullAllowlist}): registered with its capabilities. */
    List<String> allowlist() {
        return allowed;
    }

    /** The registry an image names ({@link ImageRef}). */
    static Optional<String> registry(String image) {
        return ImageRef.parse(image).map(ImageRef::registry);
    }

    /** Why this worker does not pull {@code image}, if it does not. */
    Optional<String> refusal(String image) {
        Optional<ImageRef> ref = ImageRef.parse(image);
        if (ref.isEmpty() || !ref.get().hasRegistry()) {
            return Optional.of("image " + image + " is not present on this worker (images without a registry are not pulled)");
        }
        if (ref.get().digest() == null) {
            return Optional.of("image " + image + " is not named by digest (name@sha256:...): this worker pulls by digest only");
        }
        if (PullAllowlist.admits(allowed, ref.get())) {
            return Optional.empty();
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

    /** The digests of the pulled images held, most recently used first, at most {@code max}. */
    synchronized List<String> digests(int max) {
        List<String> out = new ArrayList<>();
        for (String image : cached()) {
            ImageRef.parse(image).map(ImageRef::digest).filter(d -> !out.contains(d)).ifPresent(out::add);
        }
        java.util.Collections.reverse(out);
        return List.copyOf(out.subList(0, Math.min(Math.max(0, max), out.size())));
    }

    /** The pulled images held, most recently used last. */
    synchronized List<String> cached() {
        return List.copyOf(cache.keySet());
    }
}
