package io.agora.worker;

import io.agora.schemas.Signatures;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

/**
 * Checks of the worker's signed messages (WorkerRegistration, Heartbeat, TaskResult), for any
 * consumer of them: the signature must be valid for the {@code workerId} the message names
 * (the id is the public key), and its {@code seq} must be above every seq already accepted from
 * that worker on the same stream.
 */
public final class SignedMessages {
    private SignedMessages() {
    }

    /** The outcome of a check; {@code reason} explains a refusal (for DLQ headers and logs). */
    public record Check(boolean accepted, String reason) {
        static final Check OK = new Check(true, "ok");

        static Check refused(String reason) {
            return new Check(false, reason);
        }
    }

    /** Signature and replay check. A forged message never advances the guard. */
    public static Check verify(SpecificRecord message, ReplayGuard guard) {
        Check sig = verifySignature(message);
        if (!sig.accepted()) {
            return sig;
        }
        String sender = workerId(message);
        long seq = seq(message);
        if (!guard.accept(sender, seq)) {
            return Check.refused("replayed or stale seq " + seq + " from " + sender
                    + " (highest accepted " + guard.highest(sender).orElse(-1) + ")");
        }
        return Check.OK;
    }

    /** Signature check only. */
    public static Check verifySignature(SpecificRecord message) {
        String sender = workerId(message);
        if (sender == null || sender.isEmpty()) {
            return Check.refused("message has no workerId");
        }
        if (!Signatures.verify(message, sender)) {
            return Check.refused("bad signature for worker " + sender);
        }
        return Check.OK;
    }

    public static String workerId(SpecificRecord message) {
        Object v = message.get(field(message, "workerId").pos());
        return v == null ? null : v.toString();
    }

    public static long seq(SpecificRecord message) {
        return (Long) message.get(field(message, "seq").pos());
    }

    private static Schema.Field field(SpecificRecord message, String name) {
        Schema.Field f = message.getSchema().getField(name);
        if (f == null) {
            throw new IllegalArgumentException(message.getSchema().getName() + " has no field " + name);
        }
        return f;
    }
}
