package io.agora.ingest.auth;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.data.annotation.Id;
import io.micronaut.data.annotation.MappedEntity;

import java.time.Instant;

/** A client's API key as stored: only the salt and the salted SHA-256 of its secret, never the key itself. */
@MappedEntity(value = "api_keys", schema = "ingest")
public record ApiKeyRecord(@Id String keyId,
                           String clientId,
                           String salt,
                           String hash,
                           Instant createdAt,
                           @Nullable Instant revokedAt) {
    public boolean active() {
        return revokedAt == null;
    }
}
