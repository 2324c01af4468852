package io.agora.ledger.sink;

import io.agora.schemas.Traces;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.sdk.trace.ReadableSpan;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The sink is the last hop of a job's trace: a span per traced record it reads, child of the record's. */
class SinkTracesTest {
    @Test
    void aTracedRecordGetsTheLastSpanOfItsTraceAnUntracedOneNone() {
        ConsumerRecord<byte[], byte[]> traced = new ConsumerRecord<>("agora.ledger.entries", 0, 7, new byte[0], new byte[0]);
        traced.headers().add(Traces.HEADER,
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".getBytes(StandardCharsets.UTF_8));
        ConsumerRecord<byte[], byte[]> untraced = new ConsumerRecord<>("agora.ledger.entries", 0, 8, new byte[0], new byte[0]);

        List<Span> spans = LedgerSink.spans(List.of(traced, untraced));
        assertThat(spans).singleElement().satisfies(s -> {
            ReadableSpan span = (ReadableSpan) s;
            assertThat(span.getName()).isEqualTo("ledger-sink agora.ledger.entries");
            assertThat(span.getSpanContext().getTraceId()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
            assertThat(span.getParentSpanContext().getSpanId()).isEqualTo("b7ad6b7169203331");
        });
        spans.forEach(Span::end);
    }
}
