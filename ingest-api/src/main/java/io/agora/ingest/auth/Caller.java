package io.agora.ingest.auth;

import io.agora.ingest.api.ApiException;
import io.agora.ingest.config.IngestSettings;
import io.micronaut.http.HttpStatus;
import jakarta.inject.Singleton;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Who is calling: a client by its API key, or the operator by the admin token. */
@Singleton
public class Caller {
    private final ApiKeys keys;
    private final String adminToken;

    public Caller(ApiKeys keys, IngestSettings settings) {
        this.keys = keys;
        this.adminToken = settings.adminToken();
    }

    /** The client id behind {@code Authorization: Bearer <apiKey>}; 401 otherwise. */
    public String client(String authorization) {
        String token = bearer(authorization);
        if (token == null) {
            throw new ApiException(HttpStatus.UNAUTHORIZED, "missing API key: send Authorization: Bearer <apiKey>");
        }
        return keys.clientOf(token)
                .orElseThrow(() -> new ApiException(HttpStatus.UNAUTHORIZED, "invalid or revoked API key"));
    }

    /** Passes only with {@code Authorization: Bearer <admin token>}; 401 otherwise. */
    public void admin(String authorization) {
        String token = bearer(authorization);
        if (token == null || adminToken == null || adminToken.isEmpty()
                || !MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), adminToken.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(HttpStatus.UNAUTHORIZED, "admin token required");
        }
    }

    static String bearer(String authorization) {
        if (authorization == null) {
            return null;
        }
        String a = authorization.trim();
        if (a.regionMatches(true, 0, "Bearer ", 0, 7)) {
            String t = a.substring(7).trim();
            return t.isEmpty() ? null : t;
        }
        return null;
    }
}
