package io.agora.infra;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A transaction open when the single broker is SIGKILLed is aborted for good once it restarts: its records
 * never become visible, also after its producer (same transactional id, as a restarted streams app) commits
 * on the same partition. The broker used to end such a transaction (its timed-out sweep) while it waited out
 * its own previous registration, and skip the markers when that registration was fenced (ARCHITECTURE.md,
 * "Design decisions": exactly once across a single broker's SIGKILL).
 */
class BrokerRestartIT {

    @Test
    void aTransactionOpenAtABrokerCrashStaysAbortedAfterItsProducerCommitsAgain() throws Exception {
        LocalStack stack = LocalStack.shared();
        Assumptions.assumeFalse(stack.reused(), "does not kill the broker of a reused dev stack");
        String topic = "it-broker-restart-" + UUID.randomUUID();
        String txnId = topic + "-producer";
        try (Admin admin = Admin.create(stack.asAdmin(Map.of()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        }

        KafkaProducer<String, String> crashed = producer(stack, txnId);
        crashed.initTransactions();
        crashed.beginTransaction();
        crashed.send(new ProducerRecord<>(topic, "k", "open at the crash")).get();
        long brokerLogFrom = Files.size(brokerLog(stack));
        stack.killComponent("kafka");
        crashed.close(Duration.ZERO);
        stack.start(); // returns once the restarted broker serves clients: after it fenced its old registration

        try (KafkaProducer<String, String> restarted = producer(stack, txnId)) {
            restarted.initTransactions();
            restarted.beginTransaction();
            restarted.send(new ProducerRecord<>(topic, "k", "committed after the restart"));
            restarted.commitTransaction();
        }

        assertThat(committed(stack, topic)).containsExactly("committed after the restart");
        String since = Files.readString(brokerLog(stack), StandardCharsets.UTF_8).substring((int) brokerLogFrom);
        assertThat(since.lines().filter(l -> l.contains("likely deleted already")).toList())
                .as("transaction markers the restarted broker skipped").isEmpty();
    }

    private static Path brokerLog(LocalStack stack) {
        return stack.logsDir().resolve("kafka.log");
    }

    private static KafkaProducer<String, String> producer(LocalStack stack, String txnId) {
        return new KafkaProducer<>(stack.asAdmin(Map.of(
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnId,
                // Kafka Streams' default under exactly-once, as the market's streams apps run
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 10_000,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 120_000)),
                new StringSerializer(), new StringSerializer());
    }

    private static List<String> committed(LocalStack stack, String topic) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(stack.asAdmin(Map.of(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false")), new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            while (c.position(tp) < end) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
                    values.add(r.value());
                }
            }
        }
        return values;
    }
}
