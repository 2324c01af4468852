package io.agora.runtime;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class LauncherTest {

    @Test
    void healthJsonNamesTheAppOnce() {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("status", "DOWN");
        h.put("app", "agora-matcher");
        h.put("reason", "state \"ERROR\"\n\t");
        h.put("threadsAlive", 0);
        assertThat(Launcher.healthJson("matcher", h)).isEqualTo(
                "{\"app\":\"agora-matcher\",\"status\":\"DOWN\",\"reason\":\"state \\\"ERROR\\\"\\n\\u0009\",\"threadsAlive\":0}");
    }

    @Test
    void healthJsonNamesAServiceWithoutItsOwnNameByTheLaunchersName() {
        assertThat(Launcher.healthJson("worker", Map.of("status", "UP"))).isEqualTo("{\"app\":\"worker\",\"status\":\"UP\"}");
    }

    @Test
    void anUnhealthyServiceAnswers503() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        HttpServer admin = Launcher.startAdmin("matcher", port, new Service() {
            @Override
            public void start() {
            }

            @Override
            public Map<String, Object> health() {
                return Map.of("status", "DOWN", "reason", "state ERROR");
            }

            @Override
            public void close() {
            }
        });
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).startsWith("{\"app\":\"matcher\",").contains("\"reason\":\"state ERROR\"");
        } finally {
            admin.stop(0);
        }
    }

    @Test
    void metricsServesTheServicesMetersAndWhetherItIsUp() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        io.micrometer.prometheusmetrics.PrometheusMeterRegistry meters = Meters.registry();
        meters.counter("agora.test.things", "kind", "big").increment(3);
        HttpServer admin = Launcher.startAdmin("matcher", port, new Service() {
            @Override
            public void start() {
            }

            @Override
            public io.micrometer.prometheusmetrics.PrometheusMeterRegistry meters() {
                return meters;
            }

            @Override
            public void close() {
            }
        });
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
            assertThat(r.body()).contains("agora_test_things_total{kind=\"big\"} 3.0").contains("agora_service_up 1.0");
        } finally {
            admin.stop(0);
        }
    }
}
