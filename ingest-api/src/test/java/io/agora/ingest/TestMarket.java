package io.agora.ingest;

import io.agora.schemas.testing.KafkaTestCluster;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;

import java.sql.Connection;
import java.util.HashMap;
import java.util.Map;

/**
 * One real PostgreSQL and one real in-JVM Kafka broker for the API tests. Closed by the test
 * class itself, broker first: closing them from a JVM shutdown hook raced the other hooks and
 * could end the test JVM with an error after every test had passed.
 */
final class TestMarket implements AutoCloseable {
    final EmbeddedPostgres postgres;
    final KafkaTestCluster kafka;
    /** The API's artifact store folder (a disk store). */
    final java.nio.file.Path artifacts;
    static final long MAX_FILE_BYTES = 4096;
    static final long CLIENT_QUOTA_BYTES = 6000;

    private TestMarket() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
        // the writer's real schema: the ledger library's migration, run as the sink runs it (LedgerSchema)
        Flyway.configure().dataSource(postgres.getPostgresDatabase())
                .schemas("agora").defaultSchema("agora").createSchemas(true)
                .locations("classpath:ledger/db/migration")
                .load().migrate();
        kafka = KafkaTestCluster.start();
        artifacts = java.nio.file.Files.createTempDirectory("agora-ingest-artifacts");
    }

    static TestMarket start() throws Exception {
        return new TestMarket();
    }

    @Override
    public void close() throws Exception {
        try {
            kafka.close();
        } finally {
            postgres.close();
        }
    }

    /** One record on a topic, in the market's wire format, acknowledged. */
    <V> void produce(io.agora.schemas.TopicSpec<String, V> topic, String key, V value) throws Exception {
        try (var p = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(
                Map.<String, Object>of("bootstrap.servers", kafka.bootstrapServers()),
                new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            p.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic.name(), key,
                    io.agora.schemas.AgoraSerdes.plain().valueSerde(topic).serializer().serialize(topic.name(), value))).get();
        }
    }

    String jdbcUrl() {
        return postgres.getJdbcUrl("postgres", "postgres");
    }

    Connection db() throws Exception {
        return postgres.getPostgresDatabase().getConnection();
    }

    /** The properties an ingest-api instance needs to run against this market. */
    Map<String, Object> properties() {
        Map<String, Object> p = new HashMap<>();
        p.put("agora.bootstrap", kafka.bootstrapServers());
        p.put("agora.registry-url", "plain");
        p.put("datasources.default.url", jdbcUrl());
        p.put("datasources.default.username", "postgres");
        p.put("datasources.default.password", "");
        p.put("micronaut.server.port", -1);
        p.put("agora.ingest.rate-limit-per-second", 2);
        p.put("agora.ingest.rate-limit-burst", 10);
        p.put("agora.ingest.admin-token", "test-admin");
        p.put("agora.ingest.worker-offline-after-ms", 60_000);
        p.put("agora.artifacts.url", artifacts.toString());
        p.put("agora.artifacts.max-file-bytes", MAX_FILE_BYTES);
        p.put("agora.artifacts.client-quota-bytes", CLIENT_QUOTA_BYTES);
        return p;
    }
}
