package io.agora.ingest.api;

import io.micronaut.serde.annotation.Serdeable;

/** One thing wrong with a request: which field and why. */
@Serdeable
public record Problem(String field, String message) {
}
