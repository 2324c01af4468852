package io.agora.worker;

import io.agora.events.TaskAssigned;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A deliberately dishonest worker, for tests of the verifier: runs the task for real, then
 * appends one byte to stdout before the output is hashed, so its vote never agrees with honest
 * replicas.
 */
public final class WrongOutputSandbox implements Sandbox {
    private final Sandbox inner;

    public WrongOutputSandbox(Sandbox inner) {
        this.inner = inner;
    }

    @Override
    public SandboxOutcome run(TaskAssigned task) {
        SandboxOutcome o = inner.run(task);
        if (!o.votes()) {
            return o;
        }
        byte[] out = Arrays.copyOf(o.stdout(), o.stdout().length + 1);
        out[out.length - 1] = '!';
        return o.withStdout(out);
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
    public void close() {
        inner.close();
    }
}
