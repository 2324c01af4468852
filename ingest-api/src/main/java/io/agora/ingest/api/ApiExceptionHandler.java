package io.agora.ingest.api;

import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;

/** Turns an {@link ApiException} into its problem details answer, with {@code Retry-After} when rate limited. */
@Produces(ApiError.MEDIA_TYPE)
@Singleton
public class ApiExceptionHandler implements ExceptionHandler<ApiException, HttpResponse<ApiError>> {
    @Override
    public HttpResponse<ApiError> handle(HttpRequest request, ApiException e) {
        MutableHttpResponse<ApiError> response = HttpResponse.<ApiError>status(e.status())
                .body(ApiError.of(request, e.status(), e.getMessage(), e.problems(), e.details()))
                .contentType(ApiError.MEDIA_TYPE);
        if (e.retryAfterSeconds() != null) {
            response.header("Retry-After", Long.toString(e.retryAfterSeconds()));
        }
        return response;
    }
}
