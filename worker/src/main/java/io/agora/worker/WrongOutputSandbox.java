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
public final class WrongOutputSandbox extends DelegatingSandbox {

    public WrongOutputSandbox(Sandbox inner) {
        super(inner);
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
}
