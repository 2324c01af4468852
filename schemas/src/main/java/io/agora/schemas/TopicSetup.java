package io.agora.schemas;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;

/** Creates every catalogue topic that does not exist yet; safe to run on every start. */
public final class TopicSetup {
    private TopicSetup() {
    }

    public static void ensure(String bootstrap, short replicationFactor) {
        Map<String, Object> props = new java.util.HashMap<>(AgoraConfig.load(Map.of()).kafkaClientProperties());
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(props)) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = Topics.all().stream()
                    .filter(t -> !existing.contains(t.name()))
                    .map(t -> new NewTopic(t.name(), t.partitions(), replicationFactor).configs(t.config()))
                    .toList();
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing).all().get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot create topics on " + bootstrap + ": " + e.getCause(), e.getCause());
        }
    }

    public static void main(String[] args) {
        String bootstrap = args.length > 0 ? args[0] : System.getenv().getOrDefault("AGORA_BOOTSTRAP", "localhost:9092");
        short rf = (short) (args.length > 1 ? Integer.parseInt(args[1]) : 1);
        ensure(bootstrap, rf);
        System.out.println("topics ready on " + bootstrap + ": " + Topics.all().size());
    }
}
