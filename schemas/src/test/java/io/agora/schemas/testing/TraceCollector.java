package io.agora.schemas.testing;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;

/**
 * A tiny OTLP/HTTP trace receiver for tests: {@code POST /v1/traces} with an
 * {@code ExportTraceServiceRequest} (protobuf, gzip or not), the way a collector receives what the
 * services export; it keeps every span with the name of the service that sent it. A request it
 * cannot decode is answered 400 and kept nowhere.
 */
public final class TraceCollector implements AutoCloseable {
    /** One received span; ids in lower-case hex, {@code parentSpanId} empty for a root span. */
    public record Received(String service, String name, String traceId, String spanId, String parentSpanId, String kind) {
    }

    private final HttpServer server;
    private final List<Received> spans = new CopyOnWriteArrayList<>();

    private TraceCollector(HttpServer server) {
        this.server = server;
    }

    /** A receiver on a free port of every interface. */
    public static TraceCollector start() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(0), 0);
            TraceCollector c = new TraceCollector(server);
            server.createContext("/v1/traces", ex -> {
                byte[] body;
                try (InputStream in = "gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))
                        ? new GZIPInputStream(ex.getRequestBody()) : ex.getRequestBody()) {
                    body = in.readAllBytes();
                }
                int status = 200;
                try {
                    c.keep(ExportTraceServiceRequest.parseFrom(body));
                } catch (IOException e) {
                    status = 400;
                }
                byte[] answer = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
                ex.getResponseHeaders().add("Content-Type", "application/x-protobuf");
                ex.sendResponseHeaders(status, answer.length == 0 ? -1 : answer.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(answer);
                }
            });
            server.start();
            return c;
        } catch (IOException e) {
            throw new IllegalStateException("cannot open a port for the trace collector", e);
        }
    }

    /** The base URL to give as {@code AGORA_OTEL_ENDPOINT}. */
    public String endpoint() {
        return "http://localhost:" + server.getAddress().getPort();
    }

    /** Every span received so far. */
    public List<Received> spans() {
        return List.copyOf(spans);
    }

    /** The spans received so far of one trace. */
    public List<Received> trace(String traceId) {
        return spans.stream().filter(s -> s.traceId().equals(traceId)).toList();
    }

    private void keep(ExportTraceServiceRequest request) {
        HexFormat hex = HexFormat.of();
        for (ResourceSpans rs : request.getResourceSpansList()) {
            String service = rs.getResource().getAttributesList().stream()
                    .filter(a -> a.getKey().equals("service.name")).map(KeyValue::getValue)
                    .map(v -> v.getStringValue()).findFirst().orElse("");
            for (ScopeSpans ss : rs.getScopeSpansList()) {
                ss.getSpansList().forEach(s -> spans.add(new Received(service, s.getName(),
                        hex.formatHex(s.getTraceId().toByteArray()), hex.formatHex(s.getSpanId().toByteArray()),
                        hex.formatHex(s.getParentSpanId().toByteArray()), s.getKind().name())));
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
