package io.agora.worker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The market's proof-of-hardware challenge for this host's identities, from ingest-api
 * ({@code GET /api/v1/challenges?workers=<ids>}, {@code io.agora.market.PohChallenge}). Without one
 * (API unreachable, refused) the worker still registers, with a proof the matcher does not trust:
 * its proof-of-hardware score counts as 0.
 */
final class PohChallenges {
    private static final Logger log = LoggerFactory.getLogger(PohChallenges.class);
    /** A challenge is plain: version, time, ids, hex nonce; no JSON escaping can occur in it. */
    private static final Pattern SEED = Pattern.compile("\"seed\"\\s*:\\s*\"([A-Za-z0-9_,:-]+)\"");

    private PohChallenges() {
    }

    static Optional<String> fetch(URI api, List<String> workerIds) {
        String path = "/api/v1/challenges?workers=" + URLEncoder.encode(String.join(",", workerIds), StandardCharsets.UTF_8);
        try {
            HttpResponse<String> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build()
                    .send(HttpRequest.newBuilder(api.resolve(path)).timeout(Duration.ofSeconds(5)).GET().build(),
                            HttpResponse.BodyHandlers.ofString());
            Matcher m = SEED.matcher(r.body());
            if (r.statusCode() == 200 && m.find()) {
                return Optional.of(m.group(1));
            }
            log.warn("no proof-of-hardware challenge from {}: HTTP {} {}", api, r.statusCode(),
                    r.body().length() > 300 ? r.body().substring(0, 300) : r.body());
        } catch (java.io.IOException | IllegalArgumentException e) {
            log.warn("no proof-of-hardware challenge from {}: {} (the benchmark score will not be trusted)", api, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Optional.empty();
    }
}
