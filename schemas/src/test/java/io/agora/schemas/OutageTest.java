package io.agora.schemas;

import io.apicurio.registry.rest.client.exception.RestClientException;
import io.apicurio.registry.rest.v2.beans.Error;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

import java.io.EOFException;
import java.net.ConnectException;
import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

class OutageTest {

    static RestClientException registryError(String name, Integer code) {
        Error error = new Error();
        error.setName(name);
        error.setErrorCode(code);
        error.setMessage("Connection refused");
        return new RestClientException(error);
    }

    @Test
    void theRecordIsReadAgainAfterHalfASecondDoublingToThirtySeconds() {
        assertThat(java.util.stream.IntStream.range(0, 8).mapToObj(Outage::pauseMs).toList())
                .containsExactly(500L, 1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 30_000L, 30_000L);
        assertThat(Outage.pauseMs(Integer.MAX_VALUE)).isEqualTo(30_000L);
    }

    @Test
    void registryUnreachableBehindSerializationExceptionIsAnOutage() {
        // Apicurio's JDK client reports a refused connection as a status-less RestClientException.
        var e = new SerializationException("cannot deserialize", new IllegalStateException(registryError("ConnectException", null)));
        assertThat(Outage.of(e)).hasValueSatisfying(s -> assertThat(s).startsWith("schema registry unavailable"));
    }

    @Test
    void registryServerErrorsAndThrottlingAreOutages() {
        assertThat(Outage.isOutage(registryError("InternalServerError", 503))).isTrue();
        assertThat(Outage.isOutage(registryError("RateLimited", 429))).isTrue();
    }

    @Test
    void unknownSchemaIdIsTheRecordsFault() {
        assertThat(Outage.isOutage(new SerializationException(registryError("ContentNotFoundException", 404)))).isFalse();
    }

    @Test
    void networkFailuresAreOutagesButATruncatedRecordIsNot() {
        assertThat(Outage.isOutage(new RuntimeException(new ConnectException("refused")))).isTrue();
        assertThat(Outage.isOutage(new SerializationException(new EOFException()))).isFalse();
    }

    @Test
    void databaseDownIsAnOutageButAConstraintViolationIsNot() {
        assertThat(Outage.isOutage(new SQLException("connection refused", "08001"))).isTrue();
        assertThat(Outage.isOutage(new SQLException("terminating connection due to administrator command", "57P01"))).isTrue();
        assertThat(Outage.isOutage(new SQLException("new row violates check constraint", "23514"))).isFalse();
        assertThat(Outage.isOutage(new SQLException("numeric value out of range", "22003"))).isFalse();
    }

    @Test
    void kafkaRetriableErrorsAreOutagesAndPlainBugsAreNot() {
        assertThat(Outage.isOutage(new TimeoutException("metadata"))).isTrue();
        assertThat(Outage.isOutage(new ArithmeticException("long overflow"))).isFalse();
        assertThat(Outage.isOutage(null)).isFalse();
    }

    @Test
    void aCyclicCauseChainEnds() {
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b", a);
        a.initCause(b);
        assertThat(Outage.isOutage(b)).isFalse();
    }
}
