package io.agora.infra.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * How the work is spread over the instances of the cluster stack: each streams instance's active
 * and standby tasks and processed records (its {@code /health}), each ingest-api instance's job
 * submissions (its {@code /metrics}).
 */
final class Spread {
    static final String SUBMISSIONS = "http_server_requests_seconds_count";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An instance and the base URL of its admin (streams apps) or API (ingest-api) port. */
    record Instance(String name, String url) {
        boolean ingest() {
            return name.startsWith("ingest-api");
        }
    }

    /** What one instance said; {@code status} is "unreachable" when it did not answer. */
    record Reading(String name, String status, List<String> active, List<String> standby, long processed,
                   long submissions) {
    }

    private final List<Instance> instances;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(3)).build();

    Spread(List<Instance> instances) {
        this.instances = List.copyOf(instances);
    }

    /** {@code name=url,name=url...} (AGORA_CHAOS_INSTANCES). */
    static Spread parse(String spec) {
        List<Instance> out = new ArrayList<>();
        for (String kv : spec.split(",")) {
            String[] p = kv.strip().split("=", 2);
            if (p.length == 2) {
                out.add(new Instance(p[0], p[1]));
            }
        }
        return new Spread(out);
    }

    List<Instance> instances() {
        return instances;
    }

    List<Reading> read() {
        List<Reading> out = new ArrayList<>();
        for (Instance i : instances) {
            try {
                String body = get(i.url() + (i.ingest() ? "/metrics" : "/health"));
                out.add(i.ingest() ? new Reading(i.name(), "UP", List.of(), List.of(), 0, submissions(body))
                        : fromHealth(i.name(), body));
            } catch (Exception e) {
                out.add(new Reading(i.name(), "unreachable", List.of(), List.of(), 0, 0));
            }
        }
        return out;
    }

    Reading read(String name) {
        return read().stream().filter(r -> r.name().equals(name)).findFirst()
                .orElse(new Reading(name, "unknown", List.of(), List.of(), 0, 0));
    }

    static Reading fromHealth(String name, String body) throws java.io.IOException {
        JsonNode h = JSON.readTree(body);
        return new Reading(name, h.path("status").asText("?"), ids(h.path("activeTasks").asText("")),
                ids(h.path("standbyTasks").asText("")), h.path("processed").asLong(0), 0);
    }

    private static List<String> ids(String joined) {
        return joined.isBlank() ? List.of() : Arrays.asList(joined.split(","));
    }

    /** Job submissions ({@code POST /api/v1/jobs}, any answer) in a Prometheus scrape of ingest-api. */
    static long submissions(String scrape) {
        double n = 0;
        for (String line : scrape.split("\n")) {
            if (line.startsWith(SUBMISSIONS + "{") && line.contains("method=\"POST\"") && line.contains("uri=\"/api/v1/jobs\"")) {
                n += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return (long) n;
    }

    /** One line per instance. */
    static String table(List<Reading> readings) {
        return readings.stream().map(r -> r.name().startsWith("ingest-api")
                        ? String.format("    %-12s %-11s %,d submissions", r.name(), r.status(), r.submissions())
                        : String.format("    %-12s %-11s %3d active %s, %3d standby, %,d records processed", r.name(),
                        r.status(), r.active().size(), shortList(r.active()), r.standby().size(), r.processed()))
                .collect(Collectors.joining("\n"));
    }

    /** Up to 8 ids, then how many more. */
    static String shortList(List<String> ids) {
        return ids.size() <= 8 ? ids.toString()
                : ids.subList(0, 8).toString().replace("]", ", ... " + (ids.size() - 8) + " more]");
    }

    /** The app an instance belongs to: {@code matcher-2} is the matcher's (task ids are per app). */
    static String app(String instance) {
        return instance.endsWith("-2") ? instance.substring(0, instance.length() - 2) : instance;
    }

    /**
     * After {@code killed} was killed: the tasks it had before and which instance of its app holds
     * each now ({@code name -> tasks}); a task held by none is listed under "none".
     */
    static Map<String, List<String>> whereNow(String killed, List<String> before, List<Reading> now) {
        Map<String, List<String>> out = new java.util.TreeMap<>();
        for (String task : new TreeSet<>(before)) {
            String holder = now.stream().filter(r -> app(r.name()).equals(app(killed)) && r.active().contains(task))
                    .map(Reading::name).findFirst().orElse("none");
            out.computeIfAbsent(holder, h -> new ArrayList<>()).add(task);
        }
        return out;
    }

    /** The body, within 5 s all told (a request timeout alone does not bound reading the body). */
    private String get(String url) throws Exception {
        CompletableFuture<HttpResponse<String>> r = http.sendAsync(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
        try {
            return r.get(5, TimeUnit.SECONDS).body();
        } finally {
            r.cancel(true);
        }
    }
}
