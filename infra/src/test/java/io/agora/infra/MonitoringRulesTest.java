package io.agora.infra;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.agora.ledger.sink.SinkMeters;
import io.agora.matcher.MatcherApp;
import io.agora.runtime.Service;
import io.agora.schemas.AgoraConfig;
import io.agora.schemas.Identity;
import io.agora.schemas.MatcherKey;
import io.agora.verifier.VerifierApp;
import io.agora.worker.WorkerApp;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code infra/monitoring}: the alert rules parse and have what Prometheus needs, and the rules and
 * the dashboard name only metrics the services export (read from the /metrics of each service
 * created without a broker).
 */
class MonitoringRulesTest {
    static final Path MONITORING = LocalStack.repoRoot().resolve("infra/monitoring");
    /** Metrics that exist once there is traffic: the Kafka clients' per-partition and per-topic ones, and the domain meters labelled by pool, topic or Docker call. */
    static final Set<String> WITH_TRAFFIC = Set.of(
            "kafka_consumer_fetch_manager_records_lag", "kafka_producer_topic_record_send_total",
            "agora_matcher_placements_total", "agora_matcher_reassignments_total", "agora_matcher_queue_depth",
            "agora_matcher_decision_seconds_bucket", "agora_worker_docker_call_seconds_bucket", "agora_sink_records_total");
    static final Pattern METRIC = Pattern.compile("\\b((?:agora|kafka)_[a-z0-9_]+)|\\b(up)\\{");

    @TempDir
    static Path dir;
    static final Set<String> exported = new TreeSet<>();

    @BeforeAll
    static void scrapeEveryService() {
        AgoraConfig cfg = AgoraConfig.of(Map.of("agora.registry.url", "plain", "agora.state.dir", dir.toString(),
                "agora.worker.state.dir", dir.resolve("worker").toString(), "agora.worker.mode", "simulated",
                MatcherKey.PUBLIC_CONFIG, Identity.generate().workerId()));
        for (Service s : List.of(MatcherApp.create(cfg), VerifierApp.create(cfg), WorkerApp.create(cfg))) {
            try {
                names(s.meters().scrape());
            } finally {
                s.close();
            }
        }
        PrometheusMeterRegistry sink = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new SinkMeters(sink);
        names(sink.scrape());
        exported.add("agora_service_up");
        exported.addAll(WITH_TRAFFIC);
    }

    private static void names(String scrape) {
        scrape.lines().filter(l -> !l.startsWith("#") && !l.isBlank())
                .forEach(l -> exported.add(l.split("[{ ]", 2)[0]));
    }

    @Test
    @SuppressWarnings("unchecked")
    void theAlertRulesParseAndNameOnlyExportedMetrics() throws Exception {
        Map<String, Object> doc = new Yaml(new SafeConstructor(new LoaderOptions()))
                .load(Files.readString(MONITORING.resolve("alerts.yml")));
        List<Map<String, Object>> groups = (List<Map<String, Object>>) doc.get("groups");
        List<String> alerts = new ArrayList<>();
        for (Map<String, Object> g : groups) {
            for (Map<String, Object> rule : (List<Map<String, Object>>) g.get("rules")) {
                alerts.add((String) rule.get("alert"));
                assertThat(rule).containsKeys("alert", "expr", "labels", "annotations");
                assertThat(metricsIn((String) rule.get("expr"))).as(rule.get("alert") + " names exported metrics")
                        .isNotEmpty().isSubsetOf(exported);
            }
        }
        assertThat(alerts).contains("AgoraSinkLag", "AgoraDeadLettersGrowing", "AgoraServiceDown", "AgoraStreamsStalled",
                "AgoraNoReadyWorkers");
    }

    @Test
    void promtoolAcceptsTheAlertRulesWhenInstalled() throws Exception {
        Path promtool = Path.of("/usr/bin/promtool");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(promtool), "promtool not installed");
        Process p = new ProcessBuilder(promtool.toString(), "check", "rules", MONITORING.resolve("alerts.yml").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).contains("SUCCESS: 5 rules found");
    }

    @Test
    void theDashboardNamesOnlyExportedMetrics() throws Exception {
        JsonNode dash = new ObjectMapper().readTree(MONITORING.resolve("grafana-dashboard.json").toFile());
        assertThat(dash.get("panels")).isNotEmpty();
        for (JsonNode panel : dash.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                assertThat(metricsIn(target.get("expr").asText())).as(panel.get("title").asText())
                        .isNotEmpty().isSubsetOf(exported);
            }
        }
    }

    private static Set<String> metricsIn(String expr) {
        Set<String> names = new TreeSet<>();
        Matcher m = METRIC.matcher(expr);
        while (m.find()) {
            if (m.group(1) != null) {
                names.add(m.group(1));
            } else {
                exported.add("up"); // Prometheus's own: 1 while the target answers its scrape
                names.add("up");
            }
        }
        return names;
    }
}
