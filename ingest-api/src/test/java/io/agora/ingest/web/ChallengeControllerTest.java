package io.agora.ingest.web;

import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.Problem;
import io.agora.market.PohChallenge;
import io.agora.schemas.Identity;
import io.micronaut.http.HttpStatus;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ChallengeControllerTest {
    static final byte[] KEY = "the challenge key the matcher has".getBytes(StandardCharsets.US_ASCII);
    final ChallengeController api = new ChallengeController(KEY);

    @Test
    void aHostGetsOneChallengeForAllItsIdentitiesThatTheMatcherAccepts() {
        String a = Identity.generate().workerId();
        String b = Identity.generate().workerId();
        Map<String, Object> c = api.challenge(a + ", " + b);
        String seed = (String) c.get("seed");
        long issuedAt = (Long) c.get("issuedAt");
        assertThat(c.get("validForMs")).isEqualTo(PohChallenge.WINDOW_MS);
        assertThat(PohChallenge.check(KEY, seed, a, issuedAt + 1_000)).isNull();
        assertThat(PohChallenge.check(KEY, seed, b, issuedAt + 1_000)).isNull();
        assertThat(PohChallenge.check(KEY, seed, Identity.generate().workerId(), issuedAt + 1_000)).contains("other workers");
    }

    @Test
    void badWorkerListsAre400sNamingEachProblem() {
        ApiException none = catchThrowableOfType(() -> api.challenge(null), ApiException.class);
        assertThat((Object) none.status()).isEqualTo(HttpStatus.BAD_REQUEST);
        ApiException bad = catchThrowableOfType(() -> api.challenge("short,also:bad," + Identity.generate().workerId()),
                ApiException.class);
        assertThat(bad.problems()).extracting(Problem::message)
                .containsExactly("not a worker id (base64url Ed25519 public key): 'short'",
                        "not a worker id (base64url Ed25519 public key): 'also:bad'");
        ApiException many = catchThrowableOfType(() -> api.challenge(",".repeat(0) + String.join(",",
                java.util.Collections.nCopies(PohChallenge.MAX_WORKERS + 1, Identity.generate().workerId()))), ApiException.class);
        assertThat(many.problems()).hasSize(1);
    }

    @Test
    void withoutAKeyNoChallengeIsIssued() {
        ApiException e = catchThrowableOfType(() -> new ChallengeController(null).challenge(Identity.generate().workerId()),
                ApiException.class);
        assertThat((Object) e.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    }
}
