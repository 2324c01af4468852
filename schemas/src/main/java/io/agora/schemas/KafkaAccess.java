package io.agora.schemas;

import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The market's trust model on the broker, declared once: which principal may read and write
 * which topic. Each service has its own principal (its name in {@code infra/services}); each
 * worker has its own, {@code worker-<name>}, issued when it enrols and revocable. Everything not
 * granted here is refused by the broker's authorizer.
 *
 * <p>Money-moving topics (the ledger, verdicts, tasks and their verifier copy, reputation, the gate's slash results) are written only by the
 * services that own them; a worker may write only registrations, heartbeats (its own or its host's) and results (which
 * the apps accept only when signed by the worker's Ed25519 key) and read only the task topic.
 */
public final class KafkaAccess {
    /** SASL mechanism of every client principal. */
    public static final String MECHANISM = "SCRAM-SHA-512";
    /** The workers' consumer group. */
    public static final String WORKER_GROUP = "agora-workers";
    private static final String WORKER_PREFIX = "worker-";

    /** A principal's grants: topics it reads and writes, and resource-name prefixes it owns. */
    public record Role(Set<TopicSpec<?, ?>> reads, Set<TopicSpec<?, ?>> writes, List<String> groupPrefixes,
                       List<String> ownedPrefixes) {
    }

    /** The service roles by principal name. Streams apps own their internal topics, group and transactional ids. */
    public static final Map<String, Role> SERVICES = Map.of(
            "matcher", new Role(
                    Set.of(Topics.REGISTRATIONS, Topics.HEARTBEATS, Topics.HOST_BEATS, Topics.JOB_REQUESTS,
                            Topics.JOB_COMMANDS, Topics.RESULTS, Topics.LEDGER, Topics.REPUTATION),
                    Set.of(Topics.TASKS, Topics.ASSIGNMENTS, Topics.JOB_EVENTS, Topics.VERDICTS, Topics.LEDGER,
                            Topics.REPUTATION, Topics.JOB_COMMANDS, Topics.SLASHES, Topics.DLQ),
                    List.of(), List.of("agora-matcher")),
            "verifier", new Role(
                    Set.of(Topics.ASSIGNMENTS, Topics.RESULTS, Topics.JOB_COMMANDS, Topics.REPUTATION, Topics.LEDGER,
                            Topics.SLASHES),
                    Set.of(Topics.VERDICTS, Topics.JOB_EVENTS, Topics.LEDGER, Topics.REPUTATION, Topics.JOB_COMMANDS,
                            Topics.DLQ),
                    List.of(), List.of("agora-verifier")),
            "ledger-sink", new Role(
                    Set.of(Topics.REGISTRATIONS, Topics.JOB_REQUESTS, Topics.TASKS, Topics.RESULTS, Topics.JOB_EVENTS,
                            Topics.VERDICTS, Topics.LEDGER, Topics.REPUTATION, Topics.JOB_COMMANDS),
                    Set.of(Topics.DLQ),
                    List.of("agora-ledger-sink"), List.of()),
            "ingest-api", new Role(
                    Set.of(Topics.REGISTRATIONS, Topics.HEARTBEATS, Topics.HOST_BEATS, Topics.REPUTATION, Topics.JOB_EVENTS),
                    Set.of(Topics.JOB_REQUESTS, Topics.JOB_COMMANDS, Topics.LEDGER),
                    List.of(), List.of()));

    /** What every enrolled worker may do. */
    public static final Role WORKER = new Role(
            Set.of(Topics.TASKS),
            Set.of(Topics.REGISTRATIONS, Topics.HEARTBEATS, Topics.HOST_BEATS, Topics.RESULTS),
            List.of(WORKER_GROUP), List.of());

    private KafkaAccess() {
    }

    /** The principal name of an enrolled worker. */
    public static String workerPrincipal(String workerName) {
        return WORKER_PREFIX + workerName;
    }

    public static boolean isWorkerPrincipal(String principal) {
        return principal.startsWith(WORKER_PREFIX);
    }

    /** The role of a principal name: a service, or a worker; null when it is neither. */
    public static Role roleOf(String principal) {
        return isWorkerPrincipal(principal) ? WORKER : SERVICES.get(principal);
    }

    /** The ACL bindings that give {@code principal} its role. */
    public static List<AclBinding> bindings(String principal, Role role) {
        String user = "User:" + principal;
        List<AclBinding> out = new ArrayList<>();
        for (TopicSpec<?, ?> t : role.reads()) {
            out.add(allow(user, ResourceType.TOPIC, t.name(), PatternType.LITERAL, AclOperation.READ));
        }
        for (TopicSpec<?, ?> t : role.writes()) {
            out.add(allow(user, ResourceType.TOPIC, t.name(), PatternType.LITERAL, AclOperation.WRITE));
        }
        for (String g : role.groupPrefixes()) {
            out.add(allow(user, ResourceType.GROUP, g, PatternType.PREFIXED, AclOperation.READ));
        }
        for (String prefix : role.ownedPrefixes()) {
            out.add(allow(user, ResourceType.TOPIC, prefix, PatternType.PREFIXED, AclOperation.ALL));
            out.add(allow(user, ResourceType.GROUP, prefix, PatternType.PREFIXED, AclOperation.ALL));
            out.add(allow(user, ResourceType.TRANSACTIONAL_ID, prefix, PatternType.PREFIXED, AclOperation.ALL));
        }
        return out;
    }

    private static AclBinding allow(String user, ResourceType type, String name, PatternType pattern, AclOperation op) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(user, "*", op, AclPermissionType.ALLOW));
    }

    /**
     * The security settings of a Kafka client, from configuration keys {@code agora.kafka.*}
     * (environment {@code AGORA_KAFKA_SECURITY_PROTOCOL}, {@code AGORA_KAFKA_SASL_MECHANISM},
     * {@code AGORA_KAFKA_SASL_JAAS_CONFIG}, {@code AGORA_KAFKA_SSL_TRUSTSTORE_LOCATION}, ...):
     * every such key, without its {@code agora.kafka.} prefix. Every Kafka client of the market
     * adds these to its own properties.
     */
    public static Map<String, Object> clientProperties(Map<String, String> config) {
        Map<String, Object> out = new HashMap<>();
        config.forEach((k, v) -> {
            if (k.startsWith("agora.kafka.") && k.length() > "agora.kafka.".length()) {
                out.put(k.substring("agora.kafka.".length()), v);
            }
        });
        return out;
    }

    /** The JAAS line of a SCRAM principal. */
    public static String scramJaas(String principal, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + principal
                + "\" password=\"" + password + "\";";
    }
}
