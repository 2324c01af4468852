package io.agora.worker;

import com.sun.net.httpserver.HttpServer;
import io.agora.schemas.AgoraConfig;
import io.agora.schemas.Assignments;
import io.agora.schemas.MatcherKey;
import io.agora.runtime.Launcher;
import io.agora.runtime.Service;
import io.agora.events.Heartbeat;
import io.agora.events.RegistrationType;
import io.agora.events.ResultStatus;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.events.WorkerRegistration;
import io.agora.events.WorkerStatus;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.OutputHash;
import io.agora.schemas.testing.KafkaTestCluster;
import io.agora.schemas.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The worker built by {@link WorkerApp#create} against a real in-JVM broker and the real Docker
 * engine: it joins the group, heartbeats its partitions, runs a task written to one of them,
 * produces a signed result, and drains on {@code POST /drain}.
 */
@Timeout(90)
class WorkerKafkaIT {
    static KafkaTestCluster kafka;
    @TempDir
    static Path state;
    final AgoraSerdes serdes = AgoraSerdes.plain();

    @BeforeAll
    static void broker() throws Exception {
        Path script = Path.of(WorkerKafkaIT.class.getResource("/build-test-image.sh").toURI());
        assertThat(new ProcessBuilder("sh", script.toString(), Tasks.IMAGE).inheritIO().start().waitFor()).isZero();
        kafka = KafkaTestCluster.start();
    }

    @AfterAll
    static void stop() throws Exception {
        kafka.close();
    }

    @Test
    void joins_runs_a_task_in_docker_and_drains() throws Exception {
        AgoraConfig cfg = AgoraConfig.of(Map.of(
                "agora.bootstrap", kafka.bootstrapServers(),
                "agora.registry.url", "plain",
                "agora.worker.state.dir", state.toString(),
                "agora.worker.heartbeat.ms", "200",
                "agora.worker.benchmark.ms", "50",
                "agora.worker.admin.port", Integer.toString(freePort()),
                MatcherKey.PUBLIC_CONFIG, Tasks.MATCHER.workerId()));
        List<SpecificRecord> seen = new CopyOnWriteArrayList<>();
        Thread reader = reader(seen);
        Service service = WorkerApp.create(cfg);
        WorkerApp.WorkerService ws = (WorkerApp.WorkerService) service;
        String workerId = ws.agent().workerId();
        // as Launcher.run does: the admin port opens before the service starts
        HttpServer admin = Launcher.startAdmin("worker", cfg.getInt("agora.worker.admin.port", 0), service);
        try {
            service.start();
            Heartbeat owning = await().atMost(Duration.ofSeconds(30)).until(
                    () -> last(seen, Heartbeat.class), hb -> hb != null && !hb.getOwnedPartitions().isEmpty());
            assertThat(owning.getOwnedPartitions()).hasSize(Topics.TASK_PARTITIONS);
            assertThat(owning.getStatus()).isEqualTo(WorkerStatus.READY);

            TaskAssigned task = Assignments.sign(Tasks.task(workerId, Tasks.spec("sh", "-c", "echo market; id -u").build()),
                    Tasks.MATCHER);
            try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    kafka.bootstrapServers()), new StringSerializer(), new ByteArraySerializer())) {
                p.send(new ProducerRecord<>(Topics.TASKS.name(), owning.getOwnedPartitions().get(5), workerId,
                        serdes.avroSerde(TaskAssigned.class).serializer().serialize(Topics.TASKS.name(), task))).get();
            }
            TaskResult r = await().atMost(Duration.ofSeconds(20)).until(() -> last(seen, TaskResult.class), x -> x != null);
            assertThat(r.getStatus()).isEqualTo(ResultStatus.SUCCEEDED);
            assertThat(r.getStdout()).isEqualTo("market\n65534\n");
            assertThat(r.getOutputSha256()).isEqualTo(OutputHash.of(0, "market\n65534\n".getBytes(StandardCharsets.UTF_8), Map.of()));
            assertThat(SignedMessages.verifySignature(r).accepted()).isTrue();

            WorkerRegistration reg = first(seen, WorkerRegistration.class);
            assertThat(reg.getType()).isEqualTo(RegistrationType.REGISTERED);
            assertThat(reg.getCapabilities().getCapabilities()).contains(Tasks.IMAGE);

            int port = admin.getAddress().getPort();
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("\"tasksDone\":1").contains("\"workerStatus\":\"READY\"");
            URI drainUri = URI.create("http://localhost:" + port + "/drain");
            assertThat(http.send(HttpRequest.newBuilder(drainUri).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).as("without the token").isEqualTo(401);
            // no token configured: the worker made one at start and left it in its state dir
            String token = AdminToken.read(WorkerConfig.from(cfg));
            HttpResponse<String> drain = http.send(HttpRequest.newBuilder(drainUri).header("Authorization", "Bearer " + token)
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(drain.statusCode()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(last(seen, WorkerRegistration.class).getType())
                    .isEqualTo(RegistrationType.DEREGISTERED));
            // the drain ends after its deregistrations are acked and the producer flushed: a reader may see them first
            await().atMost(Duration.ofSeconds(10)).until(() -> ws.agent().isDrained());
        } finally {
            service.close();
            admin.stop(0);
            reader.interrupt();
            reader.join(10_000);
        }
    }

    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private Thread reader(List<SpecificRecord> seen) {
        Thread t = new Thread(() -> {
            try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                    ConsumerConfig.GROUP_ID_CONFIG, "worker-test-reader",
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                    new org.apache.kafka.common.serialization.StringDeserializer(), new ByteArrayDeserializer())) {
                c.subscribe(List.of(Topics.HEARTBEATS.name(), Topics.RESULTS.name(), Topics.REGISTRATIONS.name()));
                while (!Thread.currentThread().isInterrupted()) {
                    for (ConsumerRecord<String, byte[]> rec : c.poll(Duration.ofMillis(100))) {
                        seen.add(decode(rec));
                    }
                }
            } catch (org.apache.kafka.common.errors.InterruptException e) {
                // test over
            }
        }, "test-reader");
        t.start();
        return t;
    }

    private SpecificRecord decode(ConsumerRecord<String, byte[]> rec) {
        if (rec.topic().equals(Topics.HEARTBEATS.name())) {
            return serdes.valueSerde(Topics.HEARTBEATS).deserializer().deserialize(rec.topic(), rec.value());
        }
        if (rec.topic().equals(Topics.RESULTS.name())) {
            return serdes.valueSerde(Topics.RESULTS).deserializer().deserialize(rec.topic(), rec.value());
        }
        return serdes.valueSerde(Topics.REGISTRATIONS).deserializer().deserialize(rec.topic(), rec.value());
    }

    private static <T> T last(List<SpecificRecord> seen, Class<T> type) {
        List<T> l = new ArrayList<>();
        seen.stream().filter(type::isInstance).map(type::cast).forEach(l::add);
        return l.isEmpty() ? null : l.get(l.size() - 1);
    }

    private static <T> T first(List<SpecificRecord> seen, Class<T> type) {
        return seen.stream().filter(type::isInstance).map(type::cast).findFirst().orElseThrow();
    }
}
