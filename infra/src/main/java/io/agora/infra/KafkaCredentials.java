package io.agora.infra;

import io.agora.schemas.AccessSetup;
import io.agora.schemas.KafkaAccess;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.ResourcePatternFilter;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

/**
 * The Kafka principals of a stack started by {@code infra/bin/agora}: their passwords in
 * {@code $AGORA_HOME/secrets/kafka/<principal>} (the script's {@code kafka_secret}), the settings a
 * client authenticating as one of them runs with, and worker enrolment.
 */
public final class KafkaCredentials {
    public static final String ADMIN = "admin";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final Path clientSettings;
    private final String bootstrap;
    private Admin admin;

    public KafkaCredentials(Path agoraHome, String bootstrap) {
        this.dir = agoraHome.resolve("secrets/kafka");
        this.clientSettings = agoraHome.resolve("secrets/tls/client.properties");
        this.bootstrap = bootstrap;
    }

    /** The principal's password, made on first use (as the script does). */
    public synchronized String password(String principal) {
        Path f = dir.resolve(principal);
        try {
            if (!Files.isRegularFile(f) || Files.size(f) == 0) {
                Files.createDirectories(dir);
                byte[] b = new byte[18];
                RANDOM.nextBytes(b);
                Files.writeString(f, Base64.getUrlEncoder().withoutPadding().encodeToString(b), StandardCharsets.UTF_8);
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
            }
            return Files.readString(f, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the Kafka secret of " + principal, e);
        }
    }

    /** The {@code AGORA_KAFKA_*} environment of a process connecting as {@code principal}. */
    public Map<String, String> env(String principal) {
        Map<String, String> e = new LinkedHashMap<>();
        clientProperties(principal).forEach((k, v) ->
                e.put("AGORA_KAFKA_" + k.toUpperCase(java.util.Locale.ROOT).replace('.', '_'), v.toString()));
        return e;
    }

    /**
     * The security properties of a Kafka client connecting as {@code principal}: the stack's client
     * settings (SASL_SSL and the truststore of its CA, in {@code secrets/tls/client.properties},
     * written by the script's {@code tls_up}) and the principal's SCRAM login.
     */
    public Map<String, Object> clientProperties(String principal) {
        Map<String, Object> p = new LinkedHashMap<>();
        Properties stack = new Properties();
        try (Reader r = Files.newBufferedReader(clientSettings, StandardCharsets.UTF_8)) {
            stack.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("no client settings at " + clientSettings + " (made by agora stack-up)", e);
        }
        stack.stringPropertyNames().stream().sorted().forEach(k -> p.put(k, stack.getProperty(k)));
        p.put("sasl.jaas.config", KafkaAccess.scramJaas(principal, password(principal)));
        return p;
    }

    /** Gives {@code principal} (a service or {@code worker-<name>}) its credential and ACLs, as admin. */
    public synchronized void enrol(String principal) {
        if (admin == null) {
            Map<String, Object> p = new HashMap<>(clientProperties(ADMIN));
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            admin = Admin.create(p);
        }
        try {
            AccessSetup.grant(admin, principal, password(principal));
            awaitUsable(principal);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot enrol " + principal + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * The broker applies credentials and ACLs asynchronously: enrolment returns once the principal
     * can log in and the broker's authorizer holds every ACL of its role, so the first connection
     * of the enrolled process is not refused.
     */
    private void awaitUsable(String principal) throws InterruptedException {
        int expected = KafkaAccess.bindings(principal, KafkaAccess.roleOf(principal)).size();
        AclBindingFilter mine = new AclBindingFilter(ResourcePatternFilter.ANY,
                new AccessControlEntryFilter("User:" + principal, null, AclOperation.ANY, AclPermissionType.ANY));
        Map<String, Object> p = new HashMap<>(clientProperties(principal));
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        long end = System.nanoTime() + 30_000_000_000L;
        RuntimeException last = null;
        while (System.nanoTime() < end) {
            try (Admin as = Admin.create(p)) {
                if (admin.describeAcls(mine).values().get().size() >= expected) {
                    as.describeCluster().clusterId().get();
                    return;
                }
            } catch (ExecutionException e) {
                last = new IllegalStateException(principal + " not usable yet: " + e.getCause(), e.getCause());
            }
            Thread.sleep(200);
        }
        throw last != null ? last : new IllegalStateException(principal + ": ACLs not applied after 30 s");
    }

    /** Closes the admin client enrolment opened, if any. */
    public synchronized void close() {
        if (admin != null) {
            admin.close();
            admin = null;
        }
    }
}
