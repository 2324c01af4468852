package io.agora.schemas.testing;

import io.agora.schemas.TopicSetup;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A real Kafka broker inside the test JVM (one combined KRaft node) with every topic of the
 * catalogue created, for the tests that run the apps against a real broker. Replication factors
 * and the transaction log are sized for one node; consumer groups rebalance without delay.
 * Modules use it through the schemas test-jar and declare {@code kafka-test-common-runtime} as a
 * test dependency of their own.
 */
public final class KafkaTestCluster implements AutoCloseable {
    private final KafkaClusterTestKit kafka;

    private KafkaTestCluster(KafkaClusterTestKit kafka) {
        this.kafka = kafka;
    }

    /** Formats and starts the broker, waits until it is ready and creates the market's topics. */
    public static KafkaTestCluster start() throws Exception {
        KafkaClusterTestKit kafka = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .build();
        try {
            kafka.format();
            kafka.startup();
            kafka.waitForReadyBrokers();
            TopicSetup.ensure(kafka.bootstrapServers(), (short) 1);
            awaitLogs(kafka.bootstrapServers());
            return new KafkaTestCluster(kafka);
        } catch (Exception | Error e) {
            kafka.close();
            throw e;
        }
    }

    /**
     * Waits until the node holds a log for every partition of every topic: the controller has created a topic
     * before the node has made its partitions, and a test that produced in between once had a batch refused
     * for ever as out of sequence (`OutOfOrderSequenceException` 120 ms after the partition's log appeared).
     */
    private static void awaitLogs(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Set<String> topics = admin.listTopics().names().get();
            int partitions = admin.describeTopics(topics).allTopicNames().get().values().stream()
                    .mapToInt(d -> d.partitions().size()).sum();
            List<Integer> nodes = admin.describeCluster().nodes().get().stream().map(Node::id).toList();
            long deadline = System.currentTimeMillis() + 60_000;
            while (true) {
                int logs = admin.describeLogDirs(nodes).allDescriptions().get().values().stream()
                        .flatMap(dirs -> dirs.values().stream()).mapToInt(d -> d.replicaInfos().size()).sum();
                if (logs >= partitions) {
                    return;
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("the broker made " + logs + " of " + partitions + " partition logs in 60 s");
                }
                Thread.sleep(50);
            }
        }
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    @Override
    public void close() throws Exception {
        kafka.close();
    }
}
