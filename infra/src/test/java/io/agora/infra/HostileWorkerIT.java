package io.agora.infra;

import io.agora.events.JobSpec;
import io.agora.events.JobTerms;
import io.agora.events.Strategy;
import io.agora.events.TaskAssigned;
import io.agora.schemas.AccessSetup;
import io.agora.schemas.AgoraConfig;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Assignments;
import io.agora.schemas.Identity;
import io.agora.schemas.TaskSeal;
import io.agora.schemas.KafkaAccess;
import io.agora.schemas.TopicSpec;
import io.agora.schemas.Topics;
import io.agora.worker.WorkerApp;
import io.agora.worker.WorkerConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A worker with its own, valid credentials attacks the market through the real broker: every
 * write outside its role (minting money on the ledger, assigning itself tasks, writing verdicts,
 * reputation or other clients' commands, submitting jobs) and every read outside it (results
 * before consensus, the ledger, job requests with their env) is refused by the broker's ACLs
 * (io.agora.schemas.KafkaAccess). What the ACLs must let it do comes to nothing: the task topic it
 * may read holds other workers' tasks sealed to them (no command, no env it can open), and joining
 * the workers' group under another worker's member name does not fence that worker out. What a
 * worker must do still works, so the refusals are not an artefact of a broken client. A client
 * without credentials, with a wrong password, revoked, over plaintext (the broker speaks TLS only)
 * or not trusting the stack's CA cannot connect at all.
 */
class HostileWorkerIT {
    private static LocalStack stack;
    private static KafkaCredentials credentials;
    private static final String MALLORY = KafkaAccess.workerPrincipal("mallory");

    @BeforeAll
    static void enrol() {
        stack = LocalStack.shared();
        credentials = stack.kafkaCredentials();
        credentials.enrol(MALLORY);
    }

    private static Map<String, Object> as(String principal, Map<String, Object> extra) {
        Map<String, Object> p = new HashMap<>(extra);
        p.put("bootstrap.servers", stack.bootstrap());
        p.putAll(credentials.clientProperties(principal));
        return p;
    }

    private static KafkaProducer<byte[], byte[]> producer(Map<String, Object> props) {
        Map<String, Object> p = new HashMap<>(props);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static Throwable write(KafkaProducer<byte[], byte[]> producer, TopicSpec<?, ?> topic) {
        return catchThrowable(() -> {
            try {
                producer.send(new ProducerRecord<>(topic.name(), "k".getBytes(StandardCharsets.UTF_8),
                        "forged".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw e.getCause();
            }
        });
    }

    private static Throwable read(KafkaConsumer<byte[], byte[]> consumer, TopicSpec<?, ?> topic) {
        return catchThrowable(() -> {
            consumer.assign(List.of(new TopicPartition(topic.name(), 0)));
            consumer.seekToBeginning(List.of(new TopicPartition(topic.name(), 0)));
            consumer.poll(Duration.ofSeconds(5));
        });
    }

    private static KafkaConsumer<byte[], byte[]> consumer(Map<String, Object> props) {
        Map<String, Object> p = new HashMap<>(props);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Test
    void aWorkerCannotWriteWhatTheServicesOwn() {
        try (KafkaProducer<byte[], byte[]> p = producer(as(MALLORY, Map.of()))) {
            // minting money, pre-booking a refund, assigning itself tasks, deciding verdicts,
            // raising its reputation, cancelling or disputing someone's job, submitting jobs
            for (TopicSpec<?, ?> forbidden : List.of(Topics.LEDGER, Topics.TASKS, Topics.VERDICTS, Topics.REPUTATION,
                    Topics.JOB_COMMANDS, Topics.JOB_REQUESTS, Topics.JOB_EVENTS, Topics.DLQ)) {
                assertThat(write(p, forbidden)).as("worker writing " + forbidden.name())
                        .isInstanceOf(TopicAuthorizationException.class);
            }
            // its own duties are allowed (signatures, checked by the apps, prove whose they are)
            for (TopicSpec<?, ?> allowed : List.of(Topics.HEARTBEATS, Topics.HOST_BEATS, Topics.REGISTRATIONS, Topics.RESULTS)) {
                assertThat(write(p, allowed)).as("worker writing " + allowed.name()).isNull();
            }
        }
    }

    @Test
    void aWorkerCannotReadResultsTheLedgerOrOtherClientsJobs() {
        try (KafkaConsumer<byte[], byte[]> c = consumer(as(MALLORY, Map.of()))) {
            for (TopicSpec<?, ?> forbidden : List.of(Topics.RESULTS, Topics.LEDGER, Topics.JOB_REQUESTS,
                    Topics.VERDICTS, Topics.JOB_EVENTS, Topics.HEARTBEATS, Topics.HOST_BEATS, Topics.REGISTRATIONS)) {
                assertThat(read(c, forbidden)).as("worker reading " + forbidden.name())
                        .isInstanceOf(TopicAuthorizationException.class);
            }
            assertThat(read(c, Topics.TASKS)).as("worker reading its task topic").isNull();
        }
        // and it cannot join a service's consumer group (to steal its partitions)
        try (KafkaConsumer<byte[], byte[]> c = consumer(as(MALLORY, Map.of(ConsumerConfig.GROUP_ID_CONFIG, "agora-ledger-sink")))) {
            c.subscribe(List.of(Topics.TASKS.name()));
            assertThatThrownBy(() -> c.poll(Duration.ofSeconds(10))).isInstanceOf(GroupAuthorizationException.class);
        }
    }

    @Test
    void aWorkerReadsAnotherWorkersTaskButNotItsCommandOrEnv() throws Exception {
        TaskSeal.Keys victim = TaskSeal.Keys.generate();
        TaskSeal.Keys mallorys = TaskSeal.Keys.generate();
        String secret = "TOKEN-" + UUID.randomUUID();
        TaskAssigned task = Assignments.sign(TaskSeal.seal(TaskAssigned.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setTaskId("job-sealed/0/0").setJobId("job-sealed")
                .setWorkerId("victim").setReplica(0).setAttempt(0)
                .setSpec(JobSpec.newBuilder().setImage("agora/busybox:1").setCommand(List.of("sh", "-c", "use $TOKEN"))
                        .setEnv(Map.of("TOKEN", secret)).setTimeoutMs(5_000).build())
                .setTerms(JobTerms.newBuilder().setClientId("client-1").setPool("public").setRedundancy(1).setQuorum(1)
                        .setStrategy(Strategy.FIRST).setMaxTotalResults(1).setMaxPricePerCpuSecondMicros(1_000)
                        .setEscrowMicros(10_000).setSubmittedAt(Instant.now()).setDeadline(Instant.now().plusSeconds(600))
                        .build())
                .setPricePerCpuSecondMicros(800).setLeaseDeadline(Instant.now().plusSeconds(60)).setScore(1.0)
                .setExplain("sealed").setAssignedAt(Instant.now()).build(), victim.publicKey()), Identity.generate());
        AgoraSerdes serdes = AgoraSerdes.registry(stack.registryUrl());
        int partition = 5;
        try (KafkaProducer<byte[], byte[]> matcher = producer(stack.asAdmin(Map.of()))) {
            matcher.send(new ProducerRecord<>(Topics.TASKS.name(), partition, "victim".getBytes(StandardCharsets.UTF_8),
                    serdes.valueSerde(Topics.TASKS).serializer().serialize(Topics.TASKS.name(), task))).get(30, TimeUnit.SECONDS);
        }
        // Mallory, with its own credentials, may read the whole task topic: it finds the record...
        List<byte[]> seen = new java.util.ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = consumer(as(MALLORY, Map.of()))) {
            TopicPartition tp = new TopicPartition(Topics.TASKS.name(), partition);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            org.awaitility.Awaitility.await("the task is read").atMost(Duration.ofSeconds(30)).until(() -> {
                c.poll(Duration.ofMillis(500)).forEach(r -> seen.add(r.value()));
                return seen.stream().anyMatch(v -> serdes.valueSerde(Topics.TASKS).deserializer()
                        .deserialize(Topics.TASKS.name(), v).getTaskId().equals("job-sealed/0/0"));
            });
        }
        byte[] raw = seen.stream().filter(v -> serdes.valueSerde(Topics.TASKS).deserializer()
                .deserialize(Topics.TASKS.name(), v).getTaskId().equals("job-sealed/0/0")).findFirst().orElseThrow();
        TaskAssigned read = serdes.valueSerde(Topics.TASKS).deserializer().deserialize(Topics.TASKS.name(), raw);
        // ...but neither the command nor the env is in it, and its own keys do not open the sealed spec
        assertThat(new String(raw, StandardCharsets.ISO_8859_1)).doesNotContain(secret, "use $TOKEN");
        assertThat(read.getSpec().getCommand()).isEmpty();
        assertThat(read.getSpec().getEnv()).isEmpty();
        assertThatThrownBy(() -> TaskSeal.open(read, mallorys)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not open");
        assertThat(TaskSeal.open(read, victim).getSpec().getEnv()).as("the addressed worker opens it")
                .containsEntry("TOKEN", secret);
    }

    @Test
    void aWorkerCannotKnockAnotherOffItsPartitionsByReusingItsMemberName(@TempDir Path dir) {
        String victimPrincipal = KafkaAccess.workerPrincipal("victim");
        credentials.enrol(victimPrincipal);
        String member = "worker-" + UUID.randomUUID().toString().substring(0, 16);
        Map<String, Object> victimProps = new HashMap<>(WorkerApp.consumerProps(AgoraConfig.of(Map.of()),
                WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", dir.toString()))), member));
        victimProps.putAll(as(victimPrincipal, Map.of()));
        // Mallory joins the workers' group under the victim's member name, as its static instance id
        Map<String, Object> mallorysProps = as(MALLORY, Map.of(ConsumerConfig.GROUP_ID_CONFIG, KafkaAccess.WORKER_GROUP,
                ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, member, ConsumerConfig.CLIENT_ID_CONFIG, member));
        try (KafkaConsumer<byte[], byte[]> victim = consumer(victimProps);
             KafkaConsumer<byte[], byte[]> mallory = consumer(mallorysProps)) {
            victim.subscribe(List.of(Topics.TASKS.name()));
            org.awaitility.Awaitility.await("the victim owns partitions").atMost(Duration.ofSeconds(60))
                    .until(() -> !victim.poll(Duration.ofMillis(200)).isEmpty() || !victim.assignment().isEmpty());
            mallory.subscribe(List.of(Topics.TASKS.name()));
            org.awaitility.Awaitility.await("both are members").atMost(Duration.ofSeconds(60)).until(() -> {
                victim.poll(Duration.ofMillis(200));
                mallory.poll(Duration.ofMillis(200));
                return !mallory.assignment().isEmpty() && !victim.assignment().isEmpty();
            });
            // the victim is not fenced: it keeps polling and keeps partitions of its own
            assertThat(catchThrowable(() -> victim.poll(Duration.ofMillis(500)))).isNull();
            assertThat(victim.assignment()).isNotEmpty().doesNotContainAnyElementsOf(mallory.assignment());
        }
    }

    @Test
    void noCredentialsWrongPasswordOrRevokedCannotConnect() throws Exception {
        Map<String, Object> wrong = new HashMap<>(as(MALLORY, Map.of()));
        wrong.put("sasl.jaas.config", KafkaAccess.scramJaas(MALLORY, "not-the-password"));
        try (KafkaProducer<byte[], byte[]> p = producer(wrong)) {
            assertThat(write(p, Topics.HEARTBEATS)).isInstanceOf(SaslAuthenticationException.class);
        }
        // a client speaking no SASL gets no answer at all: its metadata request times out
        try (KafkaProducer<byte[], byte[]> p = producer(Map.of("bootstrap.servers", stack.bootstrap()))) {
            assertThat(write(p, Topics.HEARTBEATS)).isNotNull();
        }
        // the broker speaks TLS only: the right credentials over plaintext get no answer either,
        // and a TLS client that does not trust the stack's CA fails its handshake
        Map<String, Object> plaintext = new HashMap<>(as(KafkaCredentials.ADMIN, Map.of()));
        plaintext.put("security.protocol", "SASL_PLAINTEXT");
        try (KafkaProducer<byte[], byte[]> p = producer(plaintext)) {
            assertThat(write(p, Topics.HEARTBEATS)).as("admin over plaintext")
                    .isInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);
        }
        Map<String, Object> untrusting = new HashMap<>(as(KafkaCredentials.ADMIN, Map.of()));
        untrusting.keySet().removeIf(k -> k.startsWith("ssl.truststore."));
        try (KafkaProducer<byte[], byte[]> p = producer(untrusting)) {
            assertThat(write(p, Topics.HEARTBEATS)).as("admin without the stack's CA")
                    .isInstanceOf(org.apache.kafka.common.errors.SslAuthenticationException.class);
        }
        String eve = KafkaAccess.workerPrincipal("eve");
        credentials.enrol(eve);
        try (KafkaProducer<byte[], byte[]> p = producer(as(eve, Map.of()))) {
            assertThat(write(p, Topics.HEARTBEATS)).as("enrolled").isNull();
        }
        try (Admin admin = Admin.create(stack.asAdmin(Map.of()))) {
            AccessSetup.revoke(admin, eve);
        }
        // the broker applies a revocation asynchronously: a new connection is refused once it has
        org.awaitility.Awaitility.await("revocation applied").atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            try (KafkaProducer<byte[], byte[]> p = producer(as(eve, Map.of()))) {
                assertThat(write(p, Topics.HEARTBEATS)).as("revoked").isInstanceOf(SaslAuthenticationException.class);
            }
        });
    }
}
