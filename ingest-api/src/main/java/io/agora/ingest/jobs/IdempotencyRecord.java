package io.agora.ingest.jobs;

import io.micronaut.data.annotation.Id;
import io.micronaut.data.annotation.MappedEntity;

import java.time.Instant;

/** A used Idempotency-Key as stored: the job it named and the SHA-256 of the request it came with. */
@MappedEntity(value = "idempotency_keys", schema = "ingest")
public record IdempotencyRecord(@Id String jobId,
                                String clientId,
                                String idempotencyKey,
                                String requestSha256,
                                Instant createdAt) {
}
