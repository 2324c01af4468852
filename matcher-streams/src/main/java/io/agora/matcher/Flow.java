package io.agora.matcher;

import io.agora.events.Heartbeat;
import io.agora.events.JobCommand;
import io.agora.events.JobRequested;
import io.agora.events.WorkerRegistration;
import io.agora.runtime.Emission;
import org.apache.avro.specific.SpecificRecord;

/**
 * What the matcher's processors hand on: either a record for one of the market's topics
 * ({@link Emit}), or an input of the pool-keyed registry and matching stage ({@link PoolEvent}),
 * which travels through the repartition topic {@code agora-matcher-pool-events-repartition}.
 */
public sealed interface Flow permits Flow.Emit, Flow.PoolEvent {

    /**
     * A record for a market topic ({@link Emission}: written by the app's emission sink). {@code raw}
     * (DLQ only) is written untouched; {@code partition} (task topic only) is the explicit partition,
     * owned by the worker the task is for.
     */
    record Emit(String topic, SpecificRecord value, byte[] raw, Integer partition) implements Flow, Emission {
        public static Emit of(String topic, SpecificRecord value) {
            return new Emit(topic, value, null, null);
        }
    }

    /** Inputs of the pool stage, keyed by pool. */
    sealed interface PoolEvent extends Flow permits Admitted, Registered, Removed, Beat, Silent, Reputation, Result, Command {
    }

    /** A job whose maximum cost is held in escrow. */
    record Admitted(JobRequested job, long escrowMicros) implements PoolEvent {
    }

    /** A verified, fresh (de)registration, with the worker's reputation so far. */
    record Registered(WorkerRegistration registration, long reputation) implements PoolEvent {
    }

    /** The worker moved to another pool: forget it in this one. */
    record Removed(String workerId) implements PoolEvent {
    }

    /** A verified, fresh heartbeat that reports something new (the gate absorbs the others: {@link QuietBeats}). */
    record Beat(Heartbeat heartbeat) implements PoolEvent {
    }

    /** The worker gate heard no heartbeat of the worker for the worker grace: it is offline. */
    record Silent(String workerId) implements PoolEvent {
    }

    /**
     * A worker's reputation after a change, and the bond the gate holds for it then ({@code stakeMicros}, the
     * {@code effectiveMicros} a slash lowers at once; -1: not said, as in records of earlier builds).
     */
    record Reputation(String workerId, long reputation, long stakeMicros) implements PoolEvent {
        Reputation(String workerId, long reputation) {
            this(workerId, reputation, -1);
        }
    }

    /** The part of a task result the matcher needs: which task ended, how, on which worker. */
    record Result(String taskId, String jobId, String workerId, int replica, int attempt, String status,
                  long durationMs) implements PoolEvent {
    }

    /** A job command (CANCEL, REQUEST_REPLICAS) for the pool the job runs in. */
    record Command(JobCommand command) implements PoolEvent {
    }
}
