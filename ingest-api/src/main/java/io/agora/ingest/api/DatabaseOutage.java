package io.agora.ingest.api;

import io.micronaut.data.connection.exceptions.ConnectionException;
import io.micronaut.data.connection.jdbc.exceptions.CannotGetJdbcConnectionException;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * PostgreSQL away (stopped, restarting, a connection closed under a request) is an outage, not the API's
 * fault: 503 with {@code Retry-After}, so a client retries, never a 500. Before, a submit during `agora chaos`'s
 * PostgreSQL stop waited out the pool's 30 s connection timeout and answered 500 "internal error" (issue 12).
 * Micronaut Data raises one of two unrelated exceptions: no connection to be had, or one lost under a request.
 */
public final class DatabaseOutage {
    /** Seconds a client should wait before it tries again: about how long a PostgreSQL restart takes. */
    static final long RETRY_AFTER_S = 5;
    private static final Logger LOG = LoggerFactory.getLogger(DatabaseOutage.class);

    private DatabaseOutage() {
    }

    static HttpResponse<ApiError> answer(HttpRequest<?> request, RuntimeException e) {
        LOG.warn("{} {}: database unavailable: {}", request.getMethodName(), request.getPath(), e.toString());
        return HttpResponse.<ApiError>status(HttpStatus.SERVICE_UNAVAILABLE)
                .body(ApiError.of(request, HttpStatus.SERVICE_UNAVAILABLE, "database unavailable: try again shortly", List.of(), null))
                .contentType(ApiError.MEDIA_TYPE)
                .header("Retry-After", Long.toString(RETRY_AFTER_S));
    }

    /** No connection to be had (the pool's connection timeout ran out). */
    @Produces(ApiError.MEDIA_TYPE)
    @Singleton
    public static class NoConnection implements ExceptionHandler<CannotGetJdbcConnectionException, HttpResponse<ApiError>> {
        @Override
        public HttpResponse<ApiError> handle(HttpRequest request, CannotGetJdbcConnectionException e) {
            return answer(request, e);
        }
    }

    /** A connection closed under the request. */
    @Produces(ApiError.MEDIA_TYPE)
    @Singleton
    public static class ConnectionLost implements ExceptionHandler<ConnectionException, HttpResponse<ApiError>> {
        @Override
        public HttpResponse<ApiError> handle(HttpRequest request, ConnectionException e) {
            return answer(request, e);
        }
    }
}
