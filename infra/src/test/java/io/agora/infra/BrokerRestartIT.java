package io.agora.infra;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
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
 * Exactly once across a SIGKILL of the single broker (ARCHITECTURE.md, "Design decisions"). A restarted node
 * used to wait out its own previous registration while it already coordinated transactions on the old
 * metadata, and to skip the markers of every transaction it was ending when that registration was fenced (the
 * partitions leaderless for a moment). A transaction open at the crash, which its sweep ends, must stay aborted;
 * one whose commit the coordinator had written but not yet marked, which it marks again when it loads, must
 * become visible; and the broker must skip no marker.
 */
class BrokerRestartIT {

    @Test
    void aTransactionOpenAtABrokerCrashStaysAbortedAfterItsProducerCommitsAgain() throws Exception {
        LocalStack stack = ownStack();
        String topic = "it-broker-restart-" + UUID.randomUUID();
        String txnId = topic + "-producer";
        KafkaProducer<String, String> crashed = openTransaction(stack, topic, txnId, "open at the crash");
        long brokerLogFrom = crashAndRestart(stack, crashed);

        try (KafkaProducer<String, String> restarted = producer(stack, txnId)) {
            restarted.initTransactions();
            restarted.beginTransaction();
            restarted.send(new ProducerRecord<>(topic, "k", "committed after the restart"));
            restarted.commitTransaction();
        }

        assertThat(committed(stack, topic)).containsExactly("committed after the restart");
        assertNoMarkerSkipped(stack, brokerLogFrom);
    }

    @Test
    void aCommitWrittenButNotMarkedAtABrokerCrashIsMarkedAfterTheRestart() throws Exception {
        LocalStack stack = ownStack();
        String topic = "it-broker-restart-prepared-" + UUID.randomUUID();
        String txnId = topic + "-producer";
        KafkaProducer<String, String> crashed = openTransaction(stack, topic, txnId, "committed before the crash");
        try (Admin admin = Admin.create(stack.asAdmin(Map.of()))) {
            TransactionDescription open = admin.describeTransactions(List.of(txnId)).description(txnId).get();
            assertThat(open.state()).isEqualTo(TransactionState.ONGOING);
            // what a crash between the coordinator's PrepareCommit and its marker leaves: the records open on the
            // partition, PrepareCommit the last state in __transaction_state (the running coordinator ignores it)
            prepareCommitInTheLog(stack, txnId, open.producerId(), (short) open.producerEpoch(), new TopicPartition(topic, 0));
        }
        long brokerLogFrom = crashAndRestart(stack, crashed);

        try (Admin admin = Admin.create(stack.asAdmin(Map.of()))) {
            awaitTrue(txnId + " completed", () -> admin.describeTransactions(List.of(txnId)).description(txnId).get()
                    .state() == TransactionState.COMPLETE_COMMIT);
        }
        assertThat(committed(stack, topic)).as("marked when its coordinator loaded it").containsExactly("committed before the crash");
        assertNoMarkerSkipped(stack, brokerLogFrom);
    }

    private static LocalStack ownStack() {
        LocalStack stack = LocalStack.shared();
        Assumptions.assumeFalse(stack.reused(), "does not kill the broker of a reused dev stack");
        return stack;
    }

    /** A one-partition topic, and a transaction open on it with one record; returns its producer. */
    private static KafkaProducer<String, String> openTransaction(LocalStack stack, String topic, String txnId, String value)
            throws Exception {
        try (Admin admin = Admin.create(stack.asAdmin(Map.of()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        }
        KafkaProducer<String, String> producer = producer(stack, txnId);
        producer.initTransactions();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic, "k", value)).get();
        return producer;
    }

    /** SIGKILLs the broker (the producer dies with it) and starts it again; returns the broker log's length before. */
    private static long crashAndRestart(LocalStack stack, KafkaProducer<String, String> producer) throws Exception {
        long brokerLogFrom = Files.size(brokerLog(stack));
        stack.killComponent("kafka");
        producer.close(Duration.ZERO);
        stack.start(); // returns once the restarted broker serves clients (its listener opens once it is unfenced)
        return brokerLogFrom;
    }

    private static void assertNoMarkerSkipped(LocalStack stack, long brokerLogFrom) throws Exception {
        String since = Files.readString(brokerLog(stack), StandardCharsets.UTF_8).substring((int) brokerLogFrom);
        assertThat(since.lines().filter(l -> l.contains("likely deleted already")).toList())
                .as("transaction markers the restarted broker skipped").isEmpty();
    }

    /**
     * Appends a PrepareCommit of the transaction to its {@code __transaction_state} partition (TransactionLogKey and
     * TransactionLogValue version 0, Kafka's own layout; the broker lets the client id {@code __admin_client} write
     * an internal topic).
     */
    private static void prepareCommitInTheLog(LocalStack stack, String txnId, long producerId, short epoch,
                                              TopicPartition tp) throws Exception {
        byte[] id = txnId.getBytes(StandardCharsets.UTF_8);
        byte[] topic = tp.topic().getBytes(StandardCharsets.UTF_8);
        ByteBuffer key = ByteBuffer.allocate(2 + 2 + id.length).putShort((short) 0).putShort((short) id.length).put(id);
        long now = System.currentTimeMillis();
        ByteBuffer value = ByteBuffer.allocate(2 + 8 + 2 + 4 + 1 + 4 + 2 + topic.length + 4 + 4 + 8 + 8)
                .putShort((short) 0).putLong(producerId).putShort(epoch).putInt(10_000)
                .put((byte) 2) // PrepareCommit
                .putInt(1).putShort((short) topic.length).put(topic).putInt(1).putInt(tp.partition())
                .putLong(now).putLong(now);
        int hash = txnId.hashCode();
        int partition = (hash == Integer.MIN_VALUE ? 0 : Math.abs(hash)) % 50; // transaction.state.log.num.partitions
        try (KafkaProducer<byte[], byte[]> internal = new KafkaProducer<>(stack.asAdmin(Map.of(
                ProducerConfig.CLIENT_ID_CONFIG, "__admin_client",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
                ProducerConfig.ACKS_CONFIG, "all")), new ByteArraySerializer(), new ByteArraySerializer())) {
            internal.send(new ProducerRecord<>("__transaction_state", partition, key.array(), value.array())).get();
        }
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    /** Polls until the check holds; fails after two minutes (a wait, not a speed assertion). */
    private static void awaitTrue(String what, Check check) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!check.holds()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(100);
        }
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
