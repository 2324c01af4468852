package io.agora.ingest.api;

import io.micronaut.data.connection.exceptions.ConnectionException;
import io.micronaut.data.connection.jdbc.exceptions.CannotGetJdbcConnectionException;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

import static org.assertj.core.api.Assertions.assertThat;

class DatabaseOutageTest {
    @Test
    void noConnectionToBeHadIsA503WithRetryAfter() {
        HttpResponse<ApiError> r = new DatabaseOutage.NoConnection().handle(HttpRequest.POST("/api/v1/jobs", "{}"),
                new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection",
                        new SQLTransientConnectionException("HikariPool-1 - Connection is not available, request timed out after 5000ms")));
        assertOutage(r);
    }

    @Test
    void aConnectionLostUnderTheRequestIsA503WithRetryAfter() {
        HttpResponse<ApiError> r = new DatabaseOutage.ConnectionLost().handle(HttpRequest.POST("/api/v1/jobs", "{}"),
                new ConnectionException("Could not set JDBC Connection read-only", new SQLException("Connection is closed")));
        assertOutage(r);
    }

    private static void assertOutage(HttpResponse<ApiError> r) {
        assertThat(r.getStatus().getCode()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE.getCode());
        assertThat(r.getHeaders().get("Retry-After")).isEqualTo("5");
        ApiError body = r.getBody().orElseThrow();
        assertThat(body.status()).isEqualTo(503);
        assertThat(body.detail()).isEqualTo("database unavailable: try again shortly");
    }
}
