package io.agora.ledger.sink;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;

/** {@code /metrics}: the sink's meters ({@link SinkMeters}), its Kafka clients' and the JVM's, in Prometheus text format. */
@Controller
public class MetricsController {
    private final PrometheusMeterRegistry prometheus;

    public MetricsController(PrometheusMeterRegistry prometheus) {
        this.prometheus = prometheus;
    }

    @Get("/metrics")
    public HttpResponse<String> metrics() {
        return HttpResponse.ok(prometheus.scrape()).contentType("text/plain; version=0.0.4; charset=utf-8");
    }
}
