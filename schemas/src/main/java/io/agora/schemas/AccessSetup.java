package io.agora.schemas;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.ResourcePatternFilter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;

/**
 * Gives the market's principals their credentials and ACLs on the broker ({@link KafkaAccess}),
 * as the operator (its {@code AGORA_KAFKA_*} settings are a super user's). Idempotent:
 *
 * <pre>
 *   AccessSetup grant  BOOTSTRAP SECRETS_DIR   every file NAME in the folder is principal NAME, its content the
 *                                              password: SCRAM credential upserted, ACLs of its role granted
 *   AccessSetup revoke BOOTSTRAP PRINCIPAL     credential deleted and every ACL of the principal removed
 * </pre>
 */
public final class AccessSetup {
    private AccessSetup() {
    }

    public static void grant(Admin admin, String principal, String password) throws ExecutionException, InterruptedException {
        KafkaAccess.Role role = KafkaAccess.roleOf(principal);
        if (role == null) {
            throw new IllegalArgumentException("unknown principal " + principal
                    + ": a service of " + KafkaAccess.SERVICES.keySet() + " or worker-<name>");
        }
        admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(principal,
                new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password))).all().get();
        admin.createAcls(KafkaAccess.bindings(principal, role)).all().get();
    }

    public static void revoke(Admin admin, String principal) throws ExecutionException, InterruptedException {
        try {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialDeletion(principal, ScramMechanism.SCRAM_SHA_512)))
                    .all().get();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof org.apache.kafka.common.errors.ResourceNotFoundException)) {
                throw e;
            }
        }
        admin.deleteAcls(List.of(new AclBindingFilter(ResourcePatternFilter.ANY,
                new AccessControlEntryFilter("User:" + principal, null, AclOperation.ANY, AclPermissionType.ANY)))).all().get();
    }

    static Admin admin(String bootstrap) {
        Map<String, Object> props = new HashMap<>(AgoraConfig.load(Map.of()).kafkaClientProperties());
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(props);
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3 || !(args[0].equals("grant") || args[0].equals("revoke"))) {
            System.err.println("usage: AccessSetup grant BOOTSTRAP SECRETS_DIR | AccessSetup revoke BOOTSTRAP PRINCIPAL");
            System.exit(2);
        }
        try (Admin admin = admin(args[1])) {
            if (args[0].equals("revoke")) {
                revoke(admin, args[2]);
                System.out.println("revoked " + args[2]);
                return;
            }
            List<String> granted = new ArrayList<>();
            try (Stream<Path> files = Files.list(Path.of(args[2]))) {
                for (Path f : files.sorted().toList()) {
                    String principal = f.getFileName().toString();
                    if (principal.equals("admin") || principal.startsWith(".")) {
                        continue;
                    }
                    grant(admin, principal, read(f));
                    granted.add(principal);
                }
            }
            System.out.println("access granted to " + granted);
        }
    }

    private static String read(Path f) throws IOException {
        return Files.readString(f, StandardCharsets.UTF_8).strip();
    }
}
