package io.agora.ingest.auth;

import jakarta.inject.Singleton;

import java.time.Clock;
import java.util.Optional;

/** Issues, revokes and checks clients' API keys. */
@Singleton
public class ApiKeys {
    private final ApiKeyRepository repository;
    private final KeyHasher hasher = new KeyHasher();
    private final Clock clock;

    public ApiKeys(ApiKeyRepository repository) {
        this.repository = repository;
        this.clock = Clock.systemUTC();
    }

    public IssuedKey issue(String clientId) {
        KeyHasher.Issued k = hasher.issue();
        repository.save(new ApiKeyRecord(k.keyId(), clientId, k.salt(), k.hash(), clock.instant(), null));
        return new IssuedKey(clientId, k.keyId(), k.apiKey());
    }

    /** @return false if no such key exists; revoking twice is fine */
    public boolean revoke(String keyId) {
        Optional<ApiKeyRecord> key = repository.findById(keyId);
        if (key.isEmpty()) {
            return false;
        }
        if (key.get().active()) {
            repository.updateRevokedAt(keyId, clock.instant());
        }
        return true;
    }

    /** The client a presented key belongs to, if the key exists, is not revoked and its secret matches. */
    public Optional<String> clientOf(String apiKey) {
        KeyHasher.Parsed parsed = KeyHasher.parse(apiKey);
        if (parsed == null) {
            return Optional.empty();
        }
        return repository.findById(parsed.keyId())
                .filter(ApiKeyRecord::active)
                .filter(k -> KeyHasher.matches(k.salt(), k.hash(), parsed.secret()))
                .map(ApiKeyRecord::clientId);
    }

    @io.micronaut.serde.annotation.Serdeable
    public record IssuedKey(String clientId, String keyId, String apiKey) {
    }

}
