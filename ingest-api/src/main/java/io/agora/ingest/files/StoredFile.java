package io.agora.ingest.files;

import io.micronaut.serde.annotation.Serdeable;

/** A file as the API answers about it: its SHA-256 (its name everywhere), size and when its owner uploaded it. */
@Serdeable
public record StoredFile(String sha256, long size, String uploadedAt) {
}
