package io.agora.worker;

import java.util.List;
import java.util.Optional;

/**
 * A sandbox wrapped around another: everything but {@link #run} goes to the inner one, so a
 * wrapper (meters, a deliberately wrong output) never hides what the real sandbox does, such as
 * removing the containers a crashed run left behind.
 */
abstract class DelegatingSandbox implements Sandbox {
    protected final Sandbox inner;

    DelegatingSandbox(Sandbox inner) {
        this.inner = inner;
    }

    @Override
    public Optional<String> probe() {
        return inner.probe();
    }

    @Override
    public List<String> localImages() {
        return inner.localImages();
    }

    @Override
    public Optional<List<String>> pullAllowlist() {
        return inner.pullAllowlist();
    }

    @Override
    public List<String> imageDigests(int max) {
        return inner.imageDigests(max);
    }

    @Override
    public int removeLeftovers() {
        return inner.removeLeftovers();
    }

    @Override
    public void close() {
        inner.close();
    }
}
