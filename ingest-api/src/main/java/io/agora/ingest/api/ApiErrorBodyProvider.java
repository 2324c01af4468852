package io.agora.ingest.api;

import io.micronaut.context.annotation.Primary;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.server.exceptions.response.Error;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.JsonErrorResponseBodyProvider;
import jakarta.inject.Singleton;

import java.util.ArrayList;
import java.util.List;

/**
 * Gives the framework's own errors (malformed JSON, unknown route, wrong method, bad path
 * variable) the same problem details shape as the API's ({@link ApiError}).
 */
@Singleton
@Primary
public class ApiErrorBodyProvider implements JsonErrorResponseBodyProvider<ApiError> {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ApiErrorBodyProvider.class);

    @Override
    public ApiError body(ErrorContext context, HttpResponse<?> response) {
        if (response.getStatus().getCode() >= 500) {
            // never echo internals (they may hold request data) to the caller; the log has them
            context.getRootCause().ifPresent(t -> LOG.error("{} {} failed", context.getRequest().getMethod(),
                    context.getRequest().getPath(), t));
            return ApiError.of(context.getRequest(), response.getStatus(), "internal error", List.of(), null);
        }
        List<Problem> problems = new ArrayList<>();
        for (Error e : context.getErrors()) {
            problems.add(new Problem(e.getPath().orElse(null), e.getMessage()));
        }
        String error;
        if (response.getStatus().getCode() == 400 && isMalformedBody(context)) {
            error = "malformed request body: " + (problems.isEmpty() ? "not valid JSON" : problems.get(0).message());
        } else if (!problems.isEmpty()) {
            error = problems.get(0).message();
        } else {
            error = response.reason();
        }
        return ApiError.of(context.getRequest(), response.getStatus(), error, problems, null);
    }

    @Override
    public String contentType() {
        return ApiError.MEDIA_TYPE;
    }

    private static boolean isMalformedBody(ErrorContext context) {
        return context.getRootCause()
                .map(t -> {
                    String n = t.getClass().getName();
                    return n.contains("Json") || n.contains("Codec") || n.contains("Conversion") || n.contains("Serde");
                })
                .orElse(false);
    }
}
