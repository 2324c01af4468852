package io.agora.ingest.web;

import io.agora.ingest.jobs.JobRequestRules;
import io.agora.ingest.jobs.SubmitJob;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.InputStream;
import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The OpenAPI document the build generates from the controllers documents every job field as the rules apply it. */
class OpenApiDocumentTest {
    @SuppressWarnings("unchecked")
    private static Map<String, Object> document() throws Exception {
        try (InputStream in = OpsController.class.getResourceAsStream(OpsController.OPENAPI_RESOURCE)) {
            assertThat(in).as("generated " + OpsController.OPENAPI_RESOURCE).isNotNull();
            return new Yaml().load(in);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> at(Map<String, Object> m, String... path) {
        Map<String, Object> cur = m;
        for (String p : path) {
            cur = (Map<String, Object>) cur.get(p);
            assertThat(cur).as(String.join("/", path) + " at " + p).isNotNull();
        }
        return cur;
    }

    @Test
    void everyJobFieldAndRequirementIsDescribed() throws Exception {
        Map<String, Object> schemas = at(document(), "components", "schemas");
        for (Class<?> type : List.of(SubmitJob.class, SubmitJob.JobRequirements.class)) {
            Map<String, Object> props = at(schemas, type.getSimpleName().equals("JobRequirements")
                    ? schemaName(schemas, "JobRequirements") : "SubmitJob", "properties");
            for (RecordComponent c : type.getRecordComponents()) {
                Map<String, Object> p = at(props, c.getName());
                if (!p.containsKey("$ref")) {
                    assertThat((String) p.get("description")).as(c.getName()).isNotBlank();
                }
            }
        }
        assertThat((List<String>) (List<?>) at(schemas, "SubmitJob").get("required"))
                .containsExactlyInAnyOrder("image", "command", "maxPricePerCpuSecondMicros");
    }

    private static String schemaName(Map<String, Object> schemas, String suffix) {
        return schemas.keySet().stream().filter(k -> k.endsWith(suffix)).findFirst().orElse(suffix);
    }

    @Test
    void defaultsAndLimitsAreTheRulesOwn() throws Exception {
        Map<String, Object> props = at(document(), "components", "schemas", "SubmitJob", "properties");
        assertThat(at(props, "timeoutMs")).containsEntry("default", (int) JobRequestRules.DEFAULT_TIMEOUT_MS)
                .containsEntry("minimum", (int) JobRequestRules.MIN_TIMEOUT_MS)
                .containsEntry("maximum", (int) JobRequestRules.MAX_TIMEOUT_MS);
        assertThat(at(props, "memoryMb")).containsEntry("default", JobRequestRules.DEFAULT_MEMORY_MB)
                .containsEntry("maximum", JobRequestRules.MAX_MEMORY_MB);
        assertThat(at(props, "redundancy")).containsEntry("default", JobRequestRules.DEFAULT_REDUNDANCY)
                .containsEntry("maximum", JobRequestRules.MAX_REDUNDANCY);
        assertThat(at(props, "maxAttempts")).containsEntry("default", JobRequestRules.DEFAULT_MAX_ATTEMPTS);
        assertThat(at(props, "queueTimeoutMs")).containsEntry("default", (int) JobRequestRules.DEFAULT_QUEUE_TIMEOUT_MS);
        assertThat(at(props, "deadlineMs")).containsEntry("default", (int) JobRequestRules.DEFAULT_DEADLINE_MS);
        assertThat(at(props, "strategy")).containsEntry("default", "k-of-n");
        assertThat((List<?>) at(props, "strategy").get("enum")).hasSize(io.agora.events.Strategy.values().length)
                .allSatisfy(s -> assertThat(JobRequestRules.strategy((String) s)).isNotNull());
    }

    @Test
    void submissionTakesTheJobAndErrorsAreProblemDetails() throws Exception {
        Map<String, Object> post = at(document(), "paths", "/api/v1/jobs", "post");
        Map<String, Object> json = at(post, "requestBody", "content", "application/json", "schema");
        assertThat(json.get("$ref")).isEqualTo("#/components/schemas/SubmitJob");
        Map<String, Object> refused = at(post, "responses", "4XX", "content", "application/problem+json", "schema");
        assertThat(refused.get("$ref")).isEqualTo("#/components/schemas/ApiError");
        assertThat(at(document(), "components", "schemas", "ApiError", "properties"))
                .containsKeys("type", "title", "status", "detail", "instance", "requestId", "problems");
        assertThat(document().get("paths").toString()).contains("/api/v1/jobs/{id}/events", "/api/v1/match", "/api/v1/jobs/{id}/executions",
                "/api/v1/stats", "/api/v1/pools", "/api/v1/workers/{id}");
    }
}
