package io.agora.ingest.api;

import io.micronaut.serde.annotation.Serdeable;

import java.util.List;
import java.util.Map;

/** The body of every error answer: {@code {"error": "...", "problems": [...], "details": {...}}}. */
@Serdeable
public record ApiError(String error, List<Problem> problems, Map<String, Object> details) {
    public ApiError(String error, List<Problem> problems) {
        this(error, problems, null);
    }
}
