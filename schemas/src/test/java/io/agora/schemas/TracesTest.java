package io.agora.schemas;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import io.agora.schemas.testing.TraceCollector;
import io.opentelemetry.exporter.logging.LoggingSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

class TracesTest {
    /** Keeps every ended span in memory. */
    static final class Collected implements SpanExporter {
        final List<SpanData> spans = new CopyOnWriteArrayList<>();

        @Override
        public CompletableResultCode export(Collection<SpanData> batch) {
            spans.addAll(batch);
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }

    @Test
    void oneTraceFromTheSubmitThroughEveryHopsHeaders() {
        Collected exported = new Collected();
        Traces.use(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exported)).build());

        Span submit = Traces.start("submit", SpanKind.SERVER, Traces.parent((String) null));
        Headers requested = new RecordHeaders();
        try (var scope = submit.makeCurrent()) {
            Traces.injectCurrent(requested);
        } finally {
            submit.end();
        }
        Headers in = requested;
        List<String> hops = List.of("admission", "matching", "worker", "verifier", "ledger-sink");
        for (String hop : hops) {
            Headers out = new RecordHeaders();
            Traces.hop(hop, SpanKind.CONSUMER, in, out);
            assertThat(Traces.traceId(out)).as(hop).isEqualTo(submit.getSpanContext().getTraceId());
            assertThat(out.lastHeader(Traces.HEADER).value()).as(hop).isNotEqualTo(in.lastHeader(Traces.HEADER).value());
            in = out;
        }

        assertThat(exported.spans).extracting(SpanData::getName).containsExactly(
                "submit", "admission", "matching", "worker", "verifier", "ledger-sink");
        assertThat(exported.spans).extracting(SpanData::getTraceId).containsOnly(submit.getSpanContext().getTraceId());
        for (int i = 1; i < exported.spans.size(); i++) {
            assertThat(exported.spans.get(i).getParentSpanId()).isEqualTo(exported.spans.get(i - 1).getSpanId());
        }
        assertThat(exported.spans.get(0).getParentSpanContext().isValid()).isFalse();
    }

    @Test
    void anHttpCallersTraceparentIsContinuedAndAMalformedOneStartsANewTrace() {
        String caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        Span span = Traces.start("submit", SpanKind.SERVER, Traces.parent(caller));
        span.end();
        assertThat(span.getSpanContext().getTraceId()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
        assertThat(Traces.traceparent(span)).startsWith("00-0af7651916cd43dd8448eb211c80319c-")
                .doesNotContain("b7ad6b7169203331");

        Headers garbage = new RecordHeaders().add(Traces.HEADER, "not-a-trace".getBytes(StandardCharsets.UTF_8));
        assertThat(Traces.traceId(garbage)).isNull();
        assertThat(Traces.traceId(new RecordHeaders())).isNull();
        Headers out = new RecordHeaders();
        Traces.hop("matching", SpanKind.CONSUMER, garbage, out);
        assertThat(Traces.traceId(out)).isNotNull().isNotEqualTo("0af7651916cd43dd8448eb211c80319c");
        Headers none = new RecordHeaders();
        Traces.inject(Context.root(), none);
        assertThat(none.lastHeader(Traces.HEADER)).isNull();
    }

    @Test
    void spansGoOverOtlpHttpToTheEndpointTheSettingsName() {
        try (TraceCollector collector = TraceCollector.start()) {
            SpanExporter otlp = Traces.exporter(AgoraConfig.of(Map.of("agora.otel.endpoint", collector.endpoint())));
            SdkTracerProvider provider = Traces.provider("ingest-api", SimpleSpanProcessor.create(otlp));
            Traces.use(provider);
            Span submit = Traces.start("submit", SpanKind.SERVER, Traces.parent((String) null));
            Headers out = new RecordHeaders();
            Traces.inject(Context.root().with(submit), out);
            submit.end();
            Traces.hop("admission", SpanKind.CONSUMER, out, new RecordHeaders());
            assertThat(provider.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
            Traces.useUnexported();
            provider.close();

            String traceId = submit.getSpanContext().getTraceId();
            assertThat(collector.trace(traceId)).extracting(TraceCollector.Received::name, TraceCollector.Received::service,
                    TraceCollector.Received::parentSpanId).containsExactlyInAnyOrder(
                    tuple("submit", "ingest-api", ""), tuple("admission", "ingest-api", submit.getSpanContext().getSpanId()));
        }
    }

    @Test
    void theSettingsChooseOtlpTheLogOrNoExporter() {
        assertThat(Traces.exporter(AgoraConfig.of(Map.of()))).isNull();
        assertThat(Traces.exporter(AgoraConfig.of(Map.of("agora.otel.exporter", "none")))).isNull();
        assertThat(Traces.exporter(AgoraConfig.of(Map.of("agora.otel.exporter", "logging")))).isInstanceOf(LoggingSpanExporter.class);
        assertThat(Traces.exporter(AgoraConfig.of(Map.of("agora.otel.endpoint", "http://collector:4318/", "agora.otel.exporter", "logging"))))
                .isInstanceOf(OtlpHttpSpanExporter.class).asString().contains("endpoint=http://collector:4318/v1/traces");
        assertThatThrownBy(() -> Traces.exporter(AgoraConfig.of(Map.of("agora.otel.exporter", "jaeger"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("jaeger");
    }
}
