package io.agora.matcher;

import org.apache.kafka.common.serialization.Serde;

/**
 * Serdes of the matcher's own flows: {@link #poolEventSerde}, the internal repartition topic's
 * format, plain Avro without the registry (the topic is internal to this app), see {@link StateSerdes}.
 * An {@link Flow.Emit} is written by the emission sink ({@link io.agora.runtime.Emission}).
 */
public final class FlowSerdes {
    private FlowSerdes() {
    }

    /** The repartition topic's format: {@link io.agora.events.state.PoolEvent} records ({@link StateSerdes}). */
    public static Serde<Flow.PoolEvent> poolEventSerde() {
        return StateSerdes.poolEvent();
    }
}
