package io.agora.infra;

import io.agora.events.TaskResult;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Fixtures;
import io.agora.schemas.RegistryGate;
import io.agora.schemas.SchemaSetup;
import io.agora.schemas.Topics;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The registry's gate in front of the real registry: anyone reads, only a writer's credentials
 * register a schema. A worker's own credentials (or none) cannot register one, not even through
 * the serializers' auto-registration; once the owner registered it, a serializer that only looks
 * schemas up (auto-register off) writes and reads through the gate.
 */
class RegistryGateIT {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void onlyAWritersCredentialsRegisterSchemasAndEveryoneReadsThem(@TempDir Path secrets) throws Exception {
        try (RegistryGate gate = gate(secrets, "worker-mallory", "mallory-pw")) {
            String url = "http://localhost:" + gate.port() + "/apis/registry/v2";
            String topic = "it-gate-" + UUID.randomUUID();
            String artifact = url + "/groups/default/artifacts/" + topic + "-value";
            TaskResult record = Fixtures.result("job-gate", "w", 0, 0, "out\n");

            assertThat(get(url + "/search/artifacts").statusCode()).as("reads pass").isEqualTo(200);
            // no credentials, a worker's, or a writer's name with a wrong password: nothing is registered
            for (AgoraSerdes refused : new AgoraSerdes[]{AgoraSerdes.registry(url),
                    AgoraSerdes.registry(url).withCredentials("worker-mallory", "mallory-pw"),
                    AgoraSerdes.registry(url).withCredentials("admin", "mallory-pw")}) {
                Serde<TaskResult> serde = refused.avroSerde(TaskResult.class);
                assertThat(catchThrowable(() -> serde.serializer().serialize(topic, record))).isNotNull();
            }
            assertThat(get(artifact + "/meta").statusCode()).isEqualTo(404);
            HttpResponse<String> direct = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/groups/default/artifacts"))
                    .header("Content-Type", "application/json").header("X-Registry-ArtifactId", topic + "-x")
                    .POST(HttpRequest.BodyPublishers.ofString(TaskResult.getClassSchema().toString())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(direct.statusCode()).as(direct.body()).isEqualTo(401);

            // the owner registers it
            byte[] written = AgoraSerdes.registry(url).withCredentials("admin", "admin-pw").avroSerde(TaskResult.class)
                    .serializer().serialize(topic, record);
            assertThat(get(artifact + "/meta").statusCode()).isEqualTo(200);
            // a worker's serdes only look it up, through the gate, without credentials
            Serde<TaskResult> reader = AgoraSerdes.registry(url).withAutoRegister(false).avroSerde(TaskResult.class);
            assertThat(reader.deserializer().deserialize(topic, written)).isEqualTo(record);
            assertThat(reader.deserializer().deserialize(topic, reader.serializer().serialize(topic, record))).isEqualTo(record);
        }
    }

    /**
     * What `agora up` does behind the gate: the owner registers every topic's schema once
     * ({@link SchemaSetup}); a worker's credentials register nothing; a worker's look-up-only serdes
     * then write and read its results.
     */
    @Test
    void theOwnerRegistersEveryTopicsSchemaAndAWorkerCannot(@TempDir Path secrets) throws Exception {
        try (RegistryGate gate = gate(secrets, "worker-1", "worker-pw")) {
            String url = "http://localhost:" + gate.port() + "/apis/registry/v2";

            assertThat(catchThrowable(() -> SchemaSetup.register(url, "worker-1", "worker-pw")))
                    .hasMessageContaining("HTTP 403");
            SchemaSetup.register(url, "admin", "admin-pw");
            SchemaSetup.register(url, "admin", "admin-pw"); // again, as at every stack-up: nothing changes
            for (String subject : SchemaSetup.subjects().keySet()) {
                assertThat(get(url + "/groups/default/artifacts/" + subject + "/meta").statusCode()).as(subject).isEqualTo(200);
            }

            AgoraSerdes worker = AgoraSerdes.registry(url).withAutoRegister(false).withCredentials("worker-1", "worker-pw");
            Serde<TaskResult> serde = worker.valueSerde(Topics.RESULTS);
            TaskResult record = Fixtures.result("job-owner", "w", 0, 0, "out\n");
            byte[] written = serde.serializer().serialize(Topics.RESULTS.name(), record);
            assertThat(serde.deserializer().deserialize(Topics.RESULTS.name(), written)).isEqualTo(record);
        }
    }

    /** A gate in front of the shared stack's registry: writer admin (password admin-pw) and one worker. */
    private static RegistryGate gate(Path secrets, String worker, String workerPassword) throws Exception {
        Files.writeString(secrets.resolve("admin"), "admin-pw\n");
        Files.writeString(secrets.resolve(worker), workerPassword + "\n");
        return RegistryGate.start(0, URI.create(LocalStack.shared().registryBaseUrl()), secrets, Set.of("admin"));
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
