package io.agora.ingest.api;

import io.micronaut.http.HttpStatus;

import java.util.List;
import java.util.Map;

/** A request the API refuses, with the status and an explanation for the caller. */
public class ApiException extends RuntimeException {
    private final HttpStatus status;
    private final List<Problem> problems;
    private final Map<String, Object> details;
    private final Long retryAfterSeconds;

    public ApiException(HttpStatus status, String error, List<Problem> problems, Map<String, Object> details,
                        Long retryAfterSeconds) {
        super(error, null, false, false);
        this.status = status;
        this.problems = problems == null ? List.of() : List.copyOf(problems);
        this.details = details;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public ApiException(HttpStatus status, String error) {
        this(status, error, List.of(), null, null);
    }

    public static ApiException invalid(List<Problem> problems) {
        return new ApiException(HttpStatus.BAD_REQUEST, "invalid request: " + problems.size() + " problem(s)",
                problems, null, null);
    }

    public static ApiException notFound(String what) {
        return new ApiException(HttpStatus.NOT_FOUND, what + " not found");
    }

    public HttpStatus status() {
        return status;
    }

    public List<Problem> problems() {
        return problems;
    }

    public Map<String, Object> details() {
        return details;
    }

    public Long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
