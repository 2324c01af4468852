package io.agora.ingest.web;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Produces;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** The dashboard page and Prometheus metrics; {@code /health} is Micronaut management's. */
@Controller
public class OpsController {
    private final PrometheusMeterRegistry prometheus;
    private final String dashboard;

    public OpsController(PrometheusMeterRegistry prometheus) throws IOException {
        this.prometheus = prometheus;
        try (InputStream in = OpsController.class.getResourceAsStream("/public/index.html")) {
            this.dashboard = in == null ? "<h1>Agora</h1>" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Get
    @Produces(MediaType.TEXT_HTML)
    public String dashboard() {
        return dashboard;
    }

    @Get("/metrics")
    public HttpResponse<String> metrics() {
        return HttpResponse.ok(prometheus.scrape()).contentType("text/plain; version=0.0.4; charset=utf-8");
    }
}
