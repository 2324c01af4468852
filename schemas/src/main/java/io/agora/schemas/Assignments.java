package io.agora.schemas;

import io.agora.events.TaskAssigned;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * The matcher's signature on a TaskAssigned: only the matcher may give a worker a task, and ACLs
 * alone cannot say so of a record copied or altered on its way. The signed bytes are
 * {@link Signatures#canonicalBytes}: the task's Avro binary with an empty signature, so the
 * worker, job, replica, attempt, terms and price are all covered. The verifier dead-letters a task
 * that fails {@link #problem}; the worker logs and skips it.
 */
public final class Assignments {
    private Assignments() {
    }

    /** Signs the task in place with the matcher's key and returns it. */
    public static TaskAssigned sign(TaskAssigned t, Identity matcher) {
        return Signatures.sign(t, matcher.privateKey());
    }

    /** Why the task is not the matcher's, checked against its public key (base64url); empty when it is. */
    public static Optional<String> problem(TaskAssigned t, String matcherKey) {
        ByteBuffer sig = t.getSignature();
        if (sig == null || !sig.hasRemaining()) {
            return Optional.of("task not signed by the matcher");
        }
        if (!Signatures.verify(t, matcherKey)) {
            return Optional.of("bad matcher signature: the task is not one the matcher signed");
        }
        return Optional.empty();
    }
}
