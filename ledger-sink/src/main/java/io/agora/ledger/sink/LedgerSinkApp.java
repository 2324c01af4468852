package io.agora.ledger.sink;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.Traces;
import io.micronaut.runtime.Micronaut;

import java.util.Map;

/**
 * The ledger sink service: projects the market's ledger, jobs, verdicts and reputation topics
 * into PostgreSQL exactly once ({@link LedgerSink}), with {@code /health} on
 * {@code AGORA_SINK_PORT} (8091).
 */
public final class LedgerSinkApp {
    private LedgerSinkApp() {
    }

    public static void main(String[] args) {
        Traces.configure("ledger-sink", AgoraConfig.load(Map.of()));
        Micronaut.run(LedgerSinkApp.class, args);
    }
}
