package io.agora.ledger.sink;

import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;

/** Beans shared by the sink thread and the HTTP side. */
@Factory
public class SinkBeans {
    @Singleton
    SinkHealth sinkHealth() {
        return new SinkHealth();
    }
}
