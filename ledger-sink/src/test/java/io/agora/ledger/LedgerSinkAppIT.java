package io.agora.ledger;

import io.agora.events.ReputationChanged;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.testing.KafkaTestCluster;
import io.agora.schemas.Topics;
import io.micronaut.context.ApplicationContext;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.exceptions.HttpClientResponseException;
import io.micronaut.runtime.server.EmbeddedServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The Micronaut service as deployed: configuration from properties, /health over HTTP, and a
 * PostgreSQL that goes away and comes back (the sink waits, reports DOWN with the reason, and
 * resumes without losing a record).
 */
class LedgerSinkAppIT {
    @TempDir
    Path pgData;

    @Test
    void reportsDownWhilePostgresIsAwayAndResumesWhenItReturns() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        EmbeddedPostgres pg = startPg(port);
        try (KafkaTestCluster kafka = KafkaTestCluster.start()) {
            String jdbcUrl = "jdbc:postgresql://localhost:" + port + "/postgres";
            try (EmbeddedServer server = ApplicationContext.run(EmbeddedServer.class, Map.of(
                    "micronaut.server.port", -1,
                    "agora.sink.bootstrap-servers", kafka.bootstrapServers(),
                    "agora.sink.registry-url", "plain",
                    "agora.sink.schema", "agora",
                    "agora.sink.retry-max", "1s",
                    "datasources.default.url", jdbcUrl,
                    "datasources.default.username", "postgres",
                    "datasources.default.password", "postgres",
                    "datasources.default.connection-timeout", "1000"));
                 HttpClient http = HttpClient.create(server.getURL())) {
                await().atMost(Duration.ofSeconds(60)).until(() -> health(http).contains("\"status\":\"UP\""));

                send(kafka, ReputationChangedFor("w1", 5));
                PGSimpleDataSource ds = new PGSimpleDataSource();
                ds.setURL(jdbcUrl);
                ds.setUser("postgres");
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        LedgerSinkKafkaIT.count(ds, "agora", "SELECT coalesce(sum(reputation), 0) FROM worker_reputation") == 5);

                pg.close();
                send(kafka, ReputationChangedFor("w1", 7));
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    String h = health(http);
                    return h.contains("\"status\":\"DOWN\"") && h.contains("PostgreSQL unavailable");
                });

                pg = startPg(port);
                await().atMost(Duration.ofSeconds(60)).until(() -> health(http).contains("\"status\":\"UP\""));
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        LedgerSinkKafkaIT.count(ds, "agora", "SELECT coalesce(sum(reputation), 0) FROM worker_reputation") == 12);
                assertThat(LedgerSinkKafkaIT.count(ds, "agora", "SELECT count(*) FROM reputation_events")).isEqualTo(2);
            }
        } finally {
            pg.close();
        }
    }

    private EmbeddedPostgres startPg(int port) throws Exception {
        return EmbeddedPostgres.builder().setPort(port).setDataDirectory(pgData).setCleanDataDirectory(false)
                .setServerConfig("fsync", "off").start();
    }

    private static String health(HttpClient http) {
        try {
            return http.toBlocking().retrieve("/health");
        } catch (HttpClientResponseException e) {
            return e.getResponse().getBody(String.class).orElse("status " + e.getStatus());
        }
    }

    private static ReputationChanged ReputationChangedFor(String worker, int delta) {
        return Events.reputation(worker, delta);
    }

    private static void send(KafkaTestCluster kafka, ReputationChanged r) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.REPUTATION.name(), r.getWorkerId(),
                    AgoraSerdes.plain().avroSerde(ReputationChanged.class).serializer().serialize(Topics.REPUTATION.name(), r)));
            producer.flush();
        }
    }
}
