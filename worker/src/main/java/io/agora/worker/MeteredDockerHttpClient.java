package io.agora.worker;

import com.github.dockerjava.transport.DockerHttpClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.io.IOException;
import java.time.Duration;

/**
 * The Docker engine's HTTP client, timing each call until the engine's answer starts:
 * {@code agora_worker_docker_call_seconds{call, outcome}} (a histogram with fixed buckets), where {@code call} is the
 * method and the API path without ids ({@code POST containers/start}, {@code GET images/json}) and
 * {@code outcome} the HTTP status class ({@code 2xx}, {@code 4xx}, ...) or {@code error}.
 */
final class MeteredDockerHttpClient implements DockerHttpClient {
    private final DockerHttpClient inner;
    private final MeterRegistry registry;

    MeteredDockerHttpClient(DockerHttpClient inner, MeterRegistry registry) {
        this.inner = inner;
        this.registry = registry;
    }

    @Override
    public Response execute(Request request) {
        long t0 = System.nanoTime();
        String outcome = "error";
        try {
            Response r = inner.execute(request);
            outcome = r.getStatusCode() / 100 + "xx";
            return r;
        } finally {
            Timer.builder("agora.worker.docker.call").description("Docker engine API call latency (until the answer starts)")
                    .tag("call", call(request.method(), request.path())).tag("outcome", outcome)
                    .serviceLevelObjectives(Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
                            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
                            Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(30))
                    .register(registry).record(Duration.ofNanos(System.nanoTime() - t0));
        }
    }

    /** {@code POST /v1.41/containers/3f2a.../start?x=1} is {@code POST containers/start}; ids never become labels. */
    static String call(String method, String path) {
        String p = path == null ? "" : path;
        int q = p.indexOf('?');
        if (q >= 0) {
            p = p.substring(0, q);
        }
        p = p.replaceFirst("^/v[0-9.]+", "").replaceAll("^/+|/+$", "");
        String[] parts = p.split("/");
        String op = parts.length > 2 || (parts.length == 2 && !isVerb(parts[1]))
                ? parts[0] + (parts.length > 2 ? "/" + parts[parts.length - 1] : "")
                : p;
        return method + " " + op;
    }

    private static boolean isVerb(String segment) {
        return segment.equals("create") || segment.equals("json") || segment.equals("prune") || segment.equals("load");
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
