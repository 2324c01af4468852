package io.agora.ingest;

import io.micronaut.runtime.Micronaut;

/** Starts the client-facing HTTP API of the market (port {@code AGORA_INGEST_PORT}, default 8080). */
public final class IngestApp {
    private IngestApp() {
    }

    public static void main(String[] args) {
        if (System.getProperty("org.apache.avro.SERIALIZABLE_PACKAGES") == null) {
            System.setProperty("org.apache.avro.SERIALIZABLE_PACKAGES", "io.agora.events");
        }
        Micronaut.run(IngestApp.class, args);
    }
}
