package io.agora.ingest.market;

import io.agora.events.CommandType;
import io.agora.events.JobCommand;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.config.IngestSettings;
import io.agora.ingest.config.KafkaSettings;
import io.agora.schemas.Topics;
import io.agora.schemas.Traces;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Scope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ServerSocket;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** What a request meets when the market's log cannot be reached: a 503 that says to retry, in bounded time. */
class MarketProducerTest {

    @Test
    @Timeout(20)
    void an_unreachable_broker_is_a_503_within_the_produce_timeout() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort(); // nothing listens there once closed
        }
        IngestSettings settings = new IngestSettings("t", 1, 1, 1, false, 30_000, 800);
        try (MarketProducer producer = new MarketProducer(new KafkaSettings("127.0.0.1:" + closedPort, "plain"), settings)) {
            JobCommand cmd = JobCommand.newBuilder().setEventId("e-1").setJobId("j-1").setClientId("c").setPool("public")
                    .setType(CommandType.CANCEL).setReason("test").setTimestamp(Instant.now()).build();
            long start = System.nanoTime();
            ApiException e = catchThrowableOfType(() -> producer.send(Topics.JOB_COMMANDS, "j-1", cmd), ApiException.class);
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(e.status().getCode()).isEqualTo(503);
            assertThat(e.getMessage()).contains("not reachable").contains("Idempotency-Key");
            assertThat(tookMs).as("bounded by produce-timeout-ms, with slack for a busy machine").isBetween(700L, 10_000L);
        }
    }

    @Test
    void a_record_carries_the_trace_of_the_call_that_produces_it() {
        assertThat(Traces.traceId(MarketProducer.record("t", "k", new byte[0]).headers())).isNull();
        Span call = Traces.start("POST /api/v1/jobs", SpanKind.SERVER, Traces.parent((String) null));
        try (Scope ignored = call.makeCurrent()) {
            assertThat(Traces.traceId(MarketProducer.record("t", "k", new byte[0]).headers()))
                    .isEqualTo(call.getSpanContext().getTraceId());
        } finally {
            call.end();
        }
    }
}
