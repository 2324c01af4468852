package io.agora.ingest.web;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Produces;
import io.swagger.v3.oas.annotations.Hidden;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * The dashboard page, Prometheus metrics and the API's own description: the OpenAPI document
 * generated at compile time from the controllers and its Swagger UI. {@code /health} is Micronaut
 * management's.
 */
@Controller
@Hidden
public class OpsController {
    /** Where micronaut-openapi writes the document (its {@code filename} option, set in the pom). */
    static final String OPENAPI_RESOURCE = "/META-INF/swagger/openapi.yml";
    private final PrometheusMeterRegistry prometheus;
    private final String dashboard;
    private final String openapi;

    public OpsController(PrometheusMeterRegistry prometheus) throws IOException {
        this.prometheus = prometheus;
        this.dashboard = resource("/public/index.html", "<h1>Agora</h1>");
        this.openapi = resource(OPENAPI_RESOURCE, null);
    }

    private static String resource(String name, String absent) throws IOException {
        try (InputStream in = OpsController.class.getResourceAsStream(name)) {
            return in == null ? absent : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Get("/api/openapi.yml")
    public HttpResponse<String> openapi() {
        return openapi == null ? HttpResponse.notFound()
                : HttpResponse.ok(openapi).contentType("application/yaml; charset=utf-8");
    }

    @Get("/api/docs")
    public HttpResponse<?> docs() {
        return HttpResponse.seeOther(URI.create("/swagger-ui/index.html"));
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
