package io.agora.ingest.market;

import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.PathIds;
import io.agora.ingest.api.Problem;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

/**
 * Where a listing of jobs (newest first) stopped: the last job's submission time and id. Sent to
 * the client as an opaque token ({@code nextCursor}) and given back as {@code ?cursor=}.
 */
public record JobCursor(Instant submittedAt, String jobId) {
    public static JobCursor after(JobView last) {
        return new JobCursor(last.submittedAt(), last.jobId());
    }

    public String token() {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((submittedAt + "|" + jobId).getBytes(StandardCharsets.UTF_8));
    }

    /** The cursor a token names; a token this API did not make is a 400 naming {@code cursor}. */
    public static JobCursor parse(String token) {
        try {
            String s = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            int bar = s.indexOf('|');
            String id = s.substring(bar + 1);
            if (bar < 0 || !PathIds.valid(id)) {
                throw new IllegalArgumentException(s);
            }
            return new JobCursor(Instant.parse(s.substring(0, bar)), id);
        } catch (RuntimeException e) {
            throw ApiException.invalid(List.of(new Problem("cursor", "is not a cursor this API gave")));
        }
    }
}
