package io.agora.ingest.auth;

import io.micronaut.data.annotation.Id;
import io.micronaut.data.jdbc.annotation.JdbcRepository;
import io.micronaut.data.model.query.builder.sql.Dialect;
import io.micronaut.data.repository.CrudRepository;

import java.time.Instant;

/** Table {@code ingest.api_keys}, owned by this module's Flyway migrations. */
@JdbcRepository(dialect = Dialect.POSTGRES)
public interface ApiKeyRepository extends CrudRepository<ApiKeyRecord, String> {
    void updateRevokedAt(@Id String keyId, Instant revokedAt);
}
