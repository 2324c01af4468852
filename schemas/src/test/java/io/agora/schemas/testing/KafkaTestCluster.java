package io.agora.schemas.testing;

import io.agora.schemas.TopicSetup;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

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
            return new KafkaTestCluster(kafka);
        } catch (Exception | Error e) {
            kafka.close();
            throw e;
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
