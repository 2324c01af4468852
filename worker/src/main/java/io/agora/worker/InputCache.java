package io.agora.worker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Which fetched inputs a worker keeps on its disk ({@code <stateDir>/artifact-cache}): at most
 * {@code input.cache.mb} MiB, the least recently used given back first. An input larger than the
 * whole cache is still kept until the next one arrives (the task being staged needs it).
 */
final class InputCache {
    private final long capBytes;
    private final LinkedHashMap<String, Long> sizes = new LinkedHashMap<>(16, 0.75f, true);
    private long held;

    InputCache(long capBytes) {
        this.capBytes = Math.max(0, capBytes);
    }

    /** Records a use of {@code sha256} ({@code size} bytes); the inputs to remove, least recently used first. */
    synchronized List<String> used(String sha256, long size) {
        Long before = sizes.put(sha256, size);
        held += size - (before == null ? 0 : before);
        List<String> evicted = new ArrayList<>();
        var it = sizes.entrySet().iterator();
        while (held > capBytes && it.hasNext()) {
            var e = it.next();
            if (!e.getKey().equals(sha256)) {
                evicted.add(e.getKey());
                held -= e.getValue();
                it.remove();
            }
        }
        return evicted;
    }

    /** Forgets an input that left the disk (it failed its hash check). */
    synchronized void forget(String sha256) {
        Long size = sizes.remove(sha256);
        if (size != null) {
            held -= size;
        }
    }

    synchronized long heldBytes() {
        return held;
    }
}
