package io.agora.ingest.web;

import io.agora.ingest.api.ApiError;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.Problem;
import io.agora.market.PohChallenge;
import io.agora.schemas.AgoraConfig;
import io.agora.schemas.ChallengeKey;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.QueryValue;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The market's proof-of-hardware challenges ({@link PohChallenge}): a worker host asks one for all its
 * identities just before it runs its benchmark, and registers each identity with the proof that answers
 * it; the matcher trusts the score only then. Public: a challenge is worth nothing without the work.
 */
@ApiResponse(responseCode = "4XX", description = "refused: problem details naming each invalid field",
        content = @Content(mediaType = ApiError.MEDIA_TYPE, schema = @Schema(implementation = ApiError.class)))
@Controller("/api/v1")
public class ChallengeController {
    private static final Pattern WORKER_ID = Pattern.compile("[A-Za-z0-9_-]{43}");
    /** Null when no key is configured: no challenge is issued. */
    private final byte[] key;

    @jakarta.inject.Inject
    public ChallengeController() {
        this(ChallengeKey.find(AgoraConfig.load(Map.of())).orElse(null));
    }

    ChallengeController(byte[] key) {
        this.key = key == null ? null : key.clone();
    }

    /** Adds a problem on {@code workers} for each of {@code ids} that is not a worker id. */
    static void checkIds(List<String> ids, List<Problem> problems) {
        for (String id : ids) {
            if (!WORKER_ID.matcher(id).matches()) {
                problems.add(new Problem("workers", "not a worker id (base64url Ed25519 public key): '"
                        + (id.length() > 60 ? id.substring(0, 60) + "..." : id) + "'"));
            }
        }
    }

    /**
     * A fresh challenge naming {@code workers} (comma-separated worker ids, one host's identities):
     * {@code seed} is what the proof's chain starts from; it must reach the matcher within {@code validForMs}.
     */
    @Get("/challenges")
    public Map<String, Object> challenge(@QueryValue @Nullable String workers) {
        List<Problem> problems = new ArrayList<>();
        List<String> ids = workers == null || workers.isBlank() ? List.of()
                : Arrays.stream(workers.split(",")).map(String::strip).toList();
        if (ids.isEmpty()) {
            problems.add(new Problem("workers", "required: the worker ids (comma-separated) the challenge is for"));
        } else if (ids.size() > PohChallenge.MAX_WORKERS) {
            problems.add(new Problem("workers", "at most " + PohChallenge.MAX_WORKERS + " worker ids, not " + ids.size()));
        } else {
            checkIds(ids, problems);
        }
        if (!problems.isEmpty()) {
            throw ApiException.invalid(problems);
        }
        if (key == null) {
            throw new ApiException(io.micronaut.http.HttpStatus.SERVICE_UNAVAILABLE, "no proof-of-hardware challenge key"
                    + " is configured: set AGORA_MARKET_CHALLENGE_KEY_FILE (the matcher's)");
        }
        long now = System.currentTimeMillis();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("seed", PohChallenge.issue(key, ids, now));
        out.put("issuedAt", now);
        out.put("validForMs", PohChallenge.WINDOW_MS);
        return out;
    }
}
