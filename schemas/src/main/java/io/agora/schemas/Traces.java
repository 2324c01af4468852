package io.agora.schemas;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.exporter.logging.LoggingSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One job's trace across the market: the W3C trace context ({@code traceparent}) rides on Kafka
 * record headers from the HTTP submit to the ledger sink, and each hop that handles the job starts
 * an OpenTelemetry span that is a child of the record it read and writes its own context on the
 * records it produces. Spans come from one {@link SdkTracerProvider} (by default sampled and
 * dropped, so that ids are real); each service's start calls {@link #configure}, which exports them
 * as its settings say ({@link #exporter}), and tests may {@link #use} their own. A missing or
 * malformed {@code traceparent} starts a new trace, never an error.
 */
public final class Traces {
    public static final String HEADER = "traceparent";
    private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");
    private static final TextMapPropagator W3C = W3CTraceContextPropagator.getInstance();
    /**
     * Sampled spans kept nowhere, so that ids are real when nothing exports (an SDK without any
     * span processor hands out no-op spans, which only pass their parent's context on).
     */
    private static final SpanProcessor KEEP_NOTHING = new SpanProcessor() {
        @Override
        public void onStart(Context parent, ReadWriteSpan span) {
        }

        @Override
        public boolean isStartRequired() {
            return false;
        }

        @Override
        public void onEnd(ReadableSpan span) {
        }

        @Override
        public boolean isEndRequired() {
            return false;
        }
    };
    private static final SdkTracerProvider UNEXPORTED = SdkTracerProvider.builder().addSpanProcessor(KEEP_NOTHING).build();
    private static volatile Tracer tracer = UNEXPORTED.get("io.agora");

    private static final TextMapGetter<Headers> FROM_HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers headers) {
            List<String> keys = new ArrayList<>();
            headers.forEach(h -> keys.add(h.key()));
            return keys;
        }

        @Override
        public String get(Headers headers, String key) {
            Header h = headers == null ? null : headers.lastHeader(key);
            return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
        }
    };
    private static final TextMapSetter<Headers> TO_HEADERS = (headers, key, value) -> {
        headers.remove(key);
        headers.add(key, value.getBytes(StandardCharsets.UTF_8));
    };
    private static final TextMapGetter<Map<String, String>> FROM_MAP = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> m) {
            return m.keySet();
        }

        @Override
        public String get(Map<String, String> m, String key) {
            return m == null ? null : m.get(key);
        }
    };

    private Traces() {
    }

    /**
     * The span exporter the settings ask for: OTLP over HTTP (protobuf) to {@code agora.otel.endpoint}
     * ({@code AGORA_OTEL_ENDPOINT}, a collector's base URL such as {@code http://collector:4318}, to
     * which {@code /v1/traces} is added unless given) when it is set; otherwise the log
     * ({@link LoggingSpanExporter}, one INFO line a span) when {@code agora.otel.exporter} is
     * {@code logging}; otherwise none (null).
     */
    public static SpanExporter exporter(AgoraConfig cfg) {
        String endpoint = cfg.find("agora.otel.endpoint").map(String::strip).filter(e -> !e.isEmpty()).orElse(null);
        if (endpoint != null) {
            String url = endpoint.endsWith("/v1/traces") ? endpoint : endpoint.replaceAll("/+$", "") + "/v1/traces";
            return OtlpHttpSpanExporter.builder().setEndpoint(url).build();
        }
        String kind = cfg.get("agora.otel.exporter", "none").strip().toLowerCase(Locale.ROOT);
        return switch (kind) {
            case "logging" -> LoggingSpanExporter.create();
            case "none", "", "otlp" -> null;
            default -> throw new IllegalArgumentException("agora.otel.exporter must be none or logging (OTLP is chosen by"
                    + " agora.otel.endpoint), not " + kind);
        };
    }

    /**
     * Exports this process's spans as {@code cfg} says ({@link #exporter}), named {@code service}
     * ({@code service.name}), in batches; flushed and closed at shutdown. Nothing changes when the
     * settings ask for no exporter.
     */
    public static void configure(String service, AgoraConfig cfg) {
        SpanExporter exporter = exporter(cfg);
        if (exporter == null) {
            return;
        }
        SdkTracerProvider provider = provider(service, BatchSpanProcessor.builder(exporter).build());
        use(provider);
        Runtime.getRuntime().addShutdownHook(new Thread(provider::close, service + "-traces"));
    }

    /** Spans of {@code service} handed to {@code processor}. */
    static SdkTracerProvider provider(String service, SpanProcessor processor) {
        return SdkTracerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(SERVICE_NAME, service))))
                .addSpanProcessor(processor)
                .build();
    }

    /** Spans from now on come from {@code provider} (an exporter in tests, or an operator's OTLP). */
    public static void use(SdkTracerProvider provider) {
        tracer = provider.get("io.agora");
    }

    /** Back to spans exported nowhere (after a test's {@link #use}). */
    static void useUnexported() {
        use(UNEXPORTED);
    }

    /** The trace context a record carries (the root context when it carries none or a malformed one). */
    public static Context parent(Headers headers) {
        return W3C.extract(Context.root(), headers, FROM_HEADERS);
    }

    /** The trace context of a {@code traceparent} value, e.g. an HTTP caller's (root when null or malformed). */
    public static Context parent(String traceparent) {
        return traceparent == null ? Context.root() : W3C.extract(Context.root(), Map.of(HEADER, traceparent), FROM_MAP);
    }

    /** A started span, child of {@code parent} (a new trace when it has none); the caller ends it. */
    public static Span start(String name, SpanKind kind, Context parent) {
        return tracer.spanBuilder(name).setSpanKind(kind).setParent(parent).startSpan();
    }

    /** Writes {@code context}'s {@code traceparent} on {@code headers}, replacing any; nothing when it has no span. */
    public static void inject(Context context, Headers headers) {
        W3C.inject(context, headers, TO_HEADERS);
    }

    /** Writes the current context's trace (the span being handled on this thread) on {@code headers}. */
    public static void injectCurrent(Headers headers) {
        inject(Context.current(), headers);
    }

    /**
     * One hop of a record through a service: a span named {@code name}, child of {@code in}'s trace,
     * whose context is written on {@code out} (the headers of the record the hop produces).
     */
    public static void hop(String name, SpanKind kind, Headers in, Headers out) {
        Span span = start(name, kind, parent(in));
        inject(Context.root().with(span), out);
        span.end();
    }

    /** The trace id a record carries, or null when it carries no valid trace context. */
    public static String traceId(Headers headers) {
        var context = Span.fromContext(parent(headers)).getSpanContext();
        return context.isValid() ? context.getTraceId() : null;
    }

    /** The {@code traceparent} value of a span, for an HTTP answer. */
    public static String traceparent(Span span) {
        var c = span.getSpanContext();
        return "00-" + c.getTraceId() + "-" + c.getSpanId() + "-" + c.getTraceFlags().asHex();
    }
}
