package io.agora.ingest.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.serde.annotation.Serdeable;

import java.util.List;
import java.util.Map;

/**
 * The body of every error answer: an RFC 9457 problem details object ({@code application/problem+json})
 * with the extensions {@code problems} (each invalid field and why), {@code details} (facts a
 * caller can act on, e.g. a balance) and {@code requestId} (the {@code X-Request-Id} of the call).
 * {@code type} is {@code about:blank}: the status says what kind of problem it is.
 */
@Serdeable
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ApiError(String type, String title, int status, String detail, String instance, String requestId,
                       List<Problem> problems, Map<String, Object> details) {
    public static final String MEDIA_TYPE = MediaType.APPLICATION_JSON_PROBLEM;

    public static ApiError of(HttpRequest<?> request, HttpStatus status, String detail, List<Problem> problems,
                              Map<String, Object> details) {
        return new ApiError("about:blank", status.getReason(), status.getCode(), detail,
                request == null ? null : request.getPath(), RequestIds.of(request),
                problems == null ? List.of() : problems, details);
    }
}
