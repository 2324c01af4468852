package io.agora.worker;

import com.sun.net.httpserver.HttpServer;
import io.agora.runtime.Launcher;
import io.agora.schemas.AgoraConfig;
import io.agora.schemas.Assignments;
import io.agora.schemas.MatcherKey;
import io.agora.schemas.TaskSeal;
import io.agora.events.Heartbeat;
import io.agora.events.HostHeartbeat;
import io.agora.events.HostedBeat;
import io.agora.events.RegistrationType;
import io.agora.events.ResultStatus;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.events.WorkerCapabilities;
import io.agora.events.WorkerRegistration;
import io.agora.events.WorkerStatus;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.HostBeats;
import io.agora.schemas.Identity;
import io.agora.schemas.Signatures;
import io.agora.market.Limits;
import io.agora.schemas.Topics;
import io.agora.schemas.Traces;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The agent's consumer/producer behaviour, with Kafka's mock clients and in-process sandboxes. */
@Timeout(30)
class WorkerAgentTest {
    static final TopicPartition P3 = new TopicPartition(Topics.TASKS.name(), 3);
    static final TopicPartition P7 = new TopicPartition(Topics.TASKS.name(), 7);

    @TempDir
    Path dir;
    final AgoraSerdes serdes = AgoraSerdes.plain();
    /** The agent's serdes: {@link #serdes}, or a registry's. */
    AgoraSerdes agentSerdes = serdes;
    final Identity identity = Identity.generate();
    final TaskSeal.Keys sealKeys = TaskSeal.Keys.generate();
    final SlowMockConsumer consumer = new SlowMockConsumer();
    final ArrivalProducer producer = new ArrivalProducer();
    final CircuitBreaker engine = new CircuitBreaker("docker engine", 1, 60_000);
    final CircuitBreaker produce = new CircuitBreaker("kafka produce", 3, 60_000);
    WorkerAgent agent;
    long offset;
    /** How the agent writes its registrations: through {@link #agentSerdes}, the schema registry away for chosen calls. */
    final FlakyRegistry registrations = new FlakyRegistry();

    /** The registrations' serializer, the registry away ({@link RegistrationThroughOutageTest#registryAway}) on the calls (from 1) {@code away} picks. */
    final class FlakyRegistry implements org.apache.kafka.common.serialization.Serializer<WorkerRegistration> {
        final java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        volatile java.util.function.IntPredicate away = n -> false;
        org.apache.kafka.common.serialization.Serializer<WorkerRegistration> inner;

        @Override
        public byte[] serialize(String topic, WorkerRegistration r) {
            if (away.test(calls.incrementAndGet())) {
                throw RegistrationThroughOutageTest.registryAway();
            }
            if (inner == null) {
                inner = agentSerdes.avroSerde(WorkerRegistration.class).serializer();
            }
            return inner.serialize(topic, r);
        }
    }

    /** MockConsumer returns at once from poll; a short nap keeps the loop from spinning. */
    static final class SlowMockConsumer extends MockConsumer<String, byte[]> {
        SlowMockConsumer() {
            super("earliest");
        }

        @Override
        public synchronized ConsumerRecords<String, byte[]> poll(Duration timeout) {
            ConsumerRecords<String, byte[]> r = super.poll(timeout);
            if (r.isEmpty()) {
                try {
                    wait(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return r;
        }
    }

    /**
     * MockProducer reports no broker time; this one reports {@code arrival} (when set) as the time the broker
     * appended a record, as a LogAppendTime topic does.
     */
    static final class ArrivalProducer extends MockProducer<byte[], byte[]> {
        volatile java.util.function.ToLongFunction<ProducerRecord<byte[], byte[]>> arrival;
        /** When set, results are kept but never acknowledged: the worker waits on their acks. */
        volatile boolean holdResults;

        ArrivalProducer() {
            super(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        }

        @Override
        public synchronized java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata> send(
                ProducerRecord<byte[], byte[]> record, org.apache.kafka.clients.producer.Callback callback) {
            var at = arrival;
            if (holdResults && record.topic().equals(Topics.RESULTS.name())) {
                return super.send(record, null);
            }
            return super.send(record, at == null || callback == null ? callback : (md, ex) -> callback.onCompletion(
                    md == null ? null : new org.apache.kafka.clients.producer.RecordMetadata(new TopicPartition(md.topic(), md.partition()), md.offset(),
                            0, at.applyAsLong(record), 0, 0), ex));
        }
    }

    /** A sandbox whose tasks wait for the test to release them. */
    static final class GatedSandbox implements Sandbox {
        final CountDownLatch gate = new CountDownLatch(1);
        final SimulatedSandbox inner = new SimulatedSandbox(0);

        @Override
        public SandboxOutcome run(TaskAssigned task) {
            try {
                gate.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return inner.run(task);
        }
    }

    /**
     * The simulated sandbox, but every task takes exactly {@code ms}: the worker's earnings
     * estimate depends on the duration, so with it fixed the estimate is known to the micro.
     */
    static final class FixedDurationSandbox implements Sandbox {
        final SimulatedSandbox inner = new SimulatedSandbox(0);
        final long ms;

        FixedDurationSandbox(long ms) {
            this.ms = ms;
        }

        @Override
        public SandboxOutcome run(TaskAssigned task) {
            SandboxOutcome o = inner.run(task);
            return new SandboxOutcome(o.status(), o.reason(), o.exitCode(), o.stdout(), o.stdoutTruncated(), o.stderr(),
                    o.stderrTruncated(), o.fileHashes(), o.startedAt(), o.startedAt() + ms);
        }
    }

    WorkerAgent start(Sandbox sandbox, Map<String, String> extra) {
        return start(sandbox, extra, List.of());
    }

    /** The agent, hosting {@code cohosted} identities besides its own. */
    WorkerAgent start(Sandbox sandbox, Map<String, String> extra, List<Identity> cohosted) {
        Map<String, String> c = new HashMap<>(Map.of("agora.worker.state.dir", dir.toString(),
                "agora.worker.heartbeat.ms", "50", "agora.worker.benchmark.ms", "10", "agora.worker.poll.ms", "20",
                "agora.worker.max.concurrent", "1", "agora.worker.drain.timeout.ms", "5000",
                "agora.worker.network.probe.url", "off", // whatever listens on the default api.url is not measured
                MatcherKey.PUBLIC_CONFIG, Tasks.MATCHER.workerId()));
        c.putAll(extra);
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(c));
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(P3, P7));
            consumer.updateBeginningOffsets(Map.of(P3, 0L, P7, 0L));
        });
        agent = new WorkerAgent(cfg, new MessageSigner(identity, new SeqClock(cfg.seqFile())), sealKeys, consumer, producer,
                agentSerdes, registrations, sandbox, engine, produce);
        for (Identity other : cohosted) {
            agent.coHost(new MessageSigner(other, new SeqClock(dir.resolve(other.workerId() + ".seq"))), TaskSeal.Keys.generate());
        }
        agent.start();
        return agent;
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
    }

    /** Offers the task as the matcher sends it: signed with its key. */
    void offer(TopicPartition tp, TaskAssigned task) {
        offerAsIs(tp, Assignments.sign(task, Tasks.MATCHER));
    }

    void offerAsIs(TopicPartition tp, TaskAssigned task) {
        byte[] v = serdes.avroSerde(TaskAssigned.class).serializer().serialize(tp.topic(), task);
        offerRaw(tp, task.getWorkerId(), v);
    }

    void offerRaw(TopicPartition tp, String key, byte[] value) {
        long o = offset++;
        consumer.schedulePollTask(() -> consumer.addRecord(new ConsumerRecord<>(tp.topic(), tp.partition(), o, key, value)));
    }

    /** Several tasks in one poll, as a batch. */
    void offerBatch(TopicPartition tp, TaskAssigned... tasks) {
        var ser = serdes.avroSerde(TaskAssigned.class).serializer();
        long o = offset;
        offset += tasks.length;
        consumer.schedulePollTask(() -> {
            for (int i = 0; i < tasks.length; i++) {
                consumer.addRecord(new ConsumerRecord<>(tp.topic(), tp.partition(), o + i, tasks[i].getWorkerId(),
                        ser.serialize(tp.topic(), Assignments.sign(tasks[i], Tasks.MATCHER))));
            }
        });
    }

    <T extends SpecificRecord> List<T> sent(io.agora.schemas.TopicSpec<String, T> topic) {
        var de = serdes.valueSerde(topic).deserializer();
        return producer.history().stream().filter(r -> r.topic().equals(topic.name()))
                .map(r -> de.deserialize(topic.name(), r.value())).toList();
    }

    Optional<Heartbeat> lastHeartbeat() {
        List<Heartbeat> hbs = sent(Topics.HEARTBEATS);
        return hbs.isEmpty() ? Optional.empty() : Optional.of(hbs.get(hbs.size() - 1));
    }

    @Test
    void started_while_the_registry_is_away_it_waits_degraded_instead_of_failing_its_start() throws Exception {
        agentSerdes = AgoraSerdes.registry("http://127.0.0.1:1/apis/registry/v2"); // nothing listens: refused
        java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
        Thread starting = new Thread(() -> {
            try {
                start(new SimulatedSandbox(0), Map.of());
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        starting.start();
        await().untilAsserted(() -> {
            assertThat(failed.get()).isNull();
            assertThat(agent).isNotNull();
            assertThat(agent.health()).containsEntry("status", "DEGRADED").hasEntrySatisfying("reason",
                    r -> assertThat((String) r).startsWith("not registered, trying again in").contains("registry"));
        });
        agent.close(); // a drain meanwhile ends the wait: nothing was registered, nothing to deregister
        starting.join();
        assertThat(failed.get()).isNull();
        assertThat(producer.history()).isEmpty();
        agent = null;
    }

    @Test
    void registers_signed_and_heartbeats_its_partitions() {
        start(new SimulatedSandbox(0), Map.of("agora.worker.pool", "lab"));
        await().untilAsserted(() -> assertThat(lastHeartbeat()).hasValueSatisfying(hb -> {
            assertThat(hb.getOwnedPartitions()).containsExactly(3, 7);
            assertThat(hb.getStatus()).isEqualTo(WorkerStatus.READY);
            assertThat(hb.getFreeSlots()).isEqualTo(1);
            assertThat(hb.getPool()).isEqualTo("lab");
        }));
        WorkerRegistration reg = sent(Topics.REGISTRATIONS).get(0);
        assertThat(reg.getType()).isEqualTo(RegistrationType.REGISTERED);
        assertThat(reg.getWorkerId()).isEqualTo(identity.workerId());
        assertThat(reg.getCapabilities().getPool()).isEqualTo("lab");
        assertThat(reg.getCapabilities().getBenchmarkScore()).isPositive();
        ReplayGuard guard = new ReplayGuard();
        assertThat(SignedMessages.verify(reg, guard).accepted()).isTrue();
        ReplayGuard hbGuard = new ReplayGuard();
        assertThat(sent(Topics.HEARTBEATS)).allSatisfy(hb -> assertThat(SignedMessages.verify(hb, hbGuard).accepted()).isTrue());
        assertThat(producer.history().get(0).key()).isEqualTo(identity.workerId().getBytes(StandardCharsets.UTF_8));
    }

    /** A simulated sandbox that holds the {@code local} images and pulls from {@code pulls} (empty: runs any without pulling). */
    static Sandbox withImages(List<String> local, Optional<List<String>> pulls) {
        return new DelegatingSandbox(new SimulatedSandbox(0)) {
            @Override
            public SandboxOutcome run(TaskAssigned task) {
                return inner.run(task);
            }

            @Override
            public List<String> localImages() {
                return local;
            }

            @Override
            public Optional<List<String>> pullAllowlist() {
                return pulls;
            }
        };
    }

    @Test
    void registers_the_pull_allowlist_of_its_sandbox_so_the_matcher_knows_which_images_it_may_pull() {
        start(withImages(List.of(), Optional.of(List.of("localhost:5000", "registry.example/team/"))), Map.of());
        await().until(() -> !sent(Topics.REGISTRATIONS).isEmpty());
        assertThat(sent(Topics.REGISTRATIONS).get(0).getCapabilities().getPullAllowlist())
                .containsExactly("localhost:5000", "registry.example/team/");
        assertThat(new SimulatedSandbox(0).pullAllowlist()).as("runs any image without pulling: the matcher assumes any").isEmpty();
    }

    @Test
    void registers_its_allowed_images_so_the_matcher_offers_it_no_other_image_and_none_when_it_runs_any() {
        start(withImages(List.of("agora/busybox:1", "agora/python:3", "other/tool:2"), Optional.empty()),
                Map.of("agora.worker.allowed.images", "agora/busybox:1, localhost:5000/agora/busybox"));
        await().until(() -> !sent(Topics.REGISTRATIONS).isEmpty());
        WorkerCapabilities caps = sent(Topics.REGISTRATIONS).get(0).getCapabilities();
        assertThat(caps.getAllowedImages()).containsExactly("agora/busybox:1", "localhost:5000/agora/busybox");
        assertThat(caps.getCapabilities()).as("of its local images it serves those it runs").containsExactly("agora/busybox:1");
    }

    @Test
    void runs_a_task_produces_a_signed_result_and_commits() {
        start(new FixedDurationSandbox(1500), Map.of());
        TaskAssigned task = Tasks.task(identity.workerId(), Tasks.spec("echo", "hi").build());
        offer(P3, task);
        await().until(() -> !sent(Topics.RESULTS).isEmpty());
        TaskResult r = sent(Topics.RESULTS).get(0);
        assertThat(r.getStatus()).isEqualTo(ResultStatus.SUCCEEDED);
        assertThat(r.getTaskId()).isEqualTo(task.getTaskId());
        assertThat(r.getOutputSha256()).hasSize(64);
        assertThat(SignedMessages.verifySignature(r).accepted()).isTrue();
        ProducerRecord<byte[], byte[]> rec = producer.history().stream().filter(x -> x.topic().equals(Topics.RESULTS.name())).findFirst().orElseThrow();
        assertThat(new String(rec.key(), StandardCharsets.UTF_8)).isEqualTo(task.getJobId());
        await().untilAsserted(() -> assertThat(consumer.committed(java.util.Set.of(P3)).get(P3).offset()).isEqualTo(1));
        await().untilAsserted(() -> assertThat(agent.health()).containsEntry("tasksDone", 1L));
        await().untilAsserted(() -> assertThat(consumer.paused()).as("resumed once the slot freed").isEmpty());
        TaskAssigned next = Tasks.task(identity.workerId(), Tasks.spec("echo", "next").setCpus(1.5).build());
        offer(P7, next);
        await().until(() -> sent(Topics.RESULTS).size() == 2);
        // Tasks.task: the worker's price 800, the client's ceiling 1000 micros per cpu-second; each task 1.5 s.
        // First: 800 x 1.5 s x 1 cpu unit = 1200. Second: 1.5 cpus count as 2 units, 800 x 1.5 x 2 = 2400.
        await().untilAsserted(() -> assertThat(agent.health()).containsEntry("tasksDone", 2L)
                .containsEntry("earningsMicros", 3600L));
    }

    @Test
    void a_result_continues_the_trace_of_its_task() {
        start(new FixedDurationSandbox(10), Map.of());
        String traceId = "0af7651916cd43dd8448eb211c80319c";
        TaskAssigned task = Assignments.sign(Tasks.task(identity.workerId(), Tasks.spec("echo", "hi").build()), Tasks.MATCHER);
        byte[] v = serdes.avroSerde(TaskAssigned.class).serializer().serialize(P3.topic(), task);
        long o = offset++;
        consumer.schedulePollTask(() -> {
            ConsumerRecord<String, byte[]> rec = new ConsumerRecord<>(P3.topic(), P3.partition(), o, task.getWorkerId(), v);
            rec.headers().add(Traces.HEADER, ("00-" + traceId + "-b7ad6b7169203331-01").getBytes(StandardCharsets.UTF_8));
            consumer.addRecord(rec);
        });
        await().until(() -> !sent(Topics.RESULTS).isEmpty());
        ProducerRecord<byte[], byte[]> result = producer.history().stream()
                .filter(x -> x.topic().equals(Topics.RESULTS.name())).findFirst().orElseThrow();
        assertThat(Traces.traceId(result.headers())).isEqualTo(traceId);
        assertThat(new String(result.headers().lastHeader(Traces.HEADER).value(), StandardCharsets.UTF_8))
                .as("the worker's own span").doesNotContain("b7ad6b7169203331");
    }

    @Test
    void its_metrics_carry_the_task_timings_by_outcome_and_the_agents_counts() throws Exception {
        io.micrometer.prometheusmetrics.PrometheusMeterRegistry meters = io.agora.runtime.Meters.registry();
        start(new MeteredSandbox(new FixedDurationSandbox(1500), meters, identity.workerId()), Map.of());
        WorkerApp.WorkerService service = new WorkerApp.WorkerService(agent,
                WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", dir.toString()))), "s3cret", meters);
        offer(P3, Tasks.task(identity.workerId(), Tasks.spec("echo", "hi").build()));
        await().untilAsserted(() -> assertThat(agent.health()).containsEntry("tasksDone", 1L));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        HttpServer admin = Launcher.startAdmin("worker", port, service);
        try {
            String body = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(body).contains("agora_worker_task_seconds_count{outcome=\"SUCCEEDED\"} 1",
                    "agora_worker_task_seconds_count{outcome=\"TIMEOUT\"} 0",
                    "agora_worker_task_seconds_bucket{outcome=\"SUCCEEDED\",le=",
                    "agora_worker_tasks_done_total 1.0", "agora_worker_tasks_failed_total 0.0",
                    "agora_worker_earnings_micros 1200.0", "agora_worker_status{status=\"READY\"} 1.0",
                    "agora_worker_status{status=\"DEGRADED\"} 0.0", "agora_service_up 1.0");
        } finally {
            admin.stop(0);
        }
    }

    @Test
    void a_docker_call_is_named_without_its_ids() {
        assertThat(MeteredDockerHttpClient.call("POST", "/v1.41/containers/3f2a9c/start?x=1")).isEqualTo("POST containers/start");
        assertThat(MeteredDockerHttpClient.call("POST", "/containers/create?name=a")).isEqualTo("POST containers/create");
        assertThat(MeteredDockerHttpClient.call("DELETE", "/containers/3f2a9c?force=true")).isEqualTo("DELETE containers");
        assertThat(MeteredDockerHttpClient.call("GET", "/images/agora/busybox:1/json")).isEqualTo("GET images/json");
        assertThat(MeteredDockerHttpClient.call("GET", "/_ping")).isEqualTo("GET _ping");
    }

    @Test
    void earns_the_clients_ceiling_when_below_its_own_price_and_nothing_for_a_failed_task() {
        Sandbox failsThenRuns = new Sandbox() {
            final FixedDurationSandbox ok = new FixedDurationSandbox(2000);

            @Override
            public SandboxOutcome run(TaskAssigned task) {
                if (task.getSpec().getCommand().contains("fail")) {
                    return SandboxOutcome.failed(ResultStatus.FAILED_EXIT, "exit 1", 0, 2000);
                }
                return ok.run(task);
            }
        };
        start(failsThenRuns, Map.of());
        offer(P3, Tasks.task(identity.workerId(), Tasks.spec("fail").build()));
        await().until(() -> sent(Topics.RESULTS).size() == 1);
        TaskAssigned cheap = Tasks.task(identity.workerId(), Tasks.spec("echo", "cheap").build());
        cheap.getTerms().setMaxPricePerCpuSecondMicros(500);
        offer(P3, cheap);
        await().until(() -> sent(Topics.RESULTS).size() == 2);
        // the failed task earns nothing; the other pays min(800, 500) x 2 s = 1000
        await().untilAsserted(() -> assertThat(agent.health()).containsEntry("tasksFailed", 1L)
                .containsEntry("earningsMicros", 1000L));
    }

    @Test
    void serves_health_and_metrics_on_the_admin_port() throws Exception {
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", dir.toString())));
        start(new FixedDurationSandbox(1000), Map.of());
        offer(P3, Tasks.task(identity.workerId(), Tasks.spec("echo", "hi").build()));
        await().untilAsserted(() -> assertThat(agent.health()).containsEntry("tasksDone", 1L));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        HttpServer admin = Launcher.startAdmin("worker", port,
                new WorkerApp.WorkerService(agent, cfg, "s3cret", io.agora.runtime.Meters.registry()));
        try {
            HttpClient http = HttpClient.newHttpClient();
            var metrics = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
            assertThat(metrics.body().lines()).contains("agora_worker_tasks_done_total 1.0", "agora_worker_tasks_failed_total 0.0",
                    "agora_worker_tasks_running 0.0", "agora_worker_earnings_micros 800.0", "agora_worker_degraded 0.0");
            var health = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("\"app\":\"worker\"", "\"workerStatus\":\"READY\"", "\"earningsMicros\":800");
        } finally {
            admin.stop(0);
        }
    }

    @Test
    void drain_needs_the_admin_token_and_the_admin_port_listens_on_loopback_by_default() throws Exception {
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.state.dir", dir.toString())));
        start(new SimulatedSandbox(0), Map.of());
        await().untilAsserted(() -> assertThat(agent.health()).containsEntry("status", "UP"));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String bind = WorkerApp.DEFAULTS.get("agora.worker.admin.bind");
        assertThat(bind).isEqualTo("127.0.0.1");
        HttpServer admin = Launcher.startAdmin("worker", bind, port, new WorkerApp.WorkerService(agent, cfg, "s3cret", io.agora.runtime.Meters.registry()));
        try {
            assertThat(admin.getAddress().getAddress().isLoopbackAddress()).isTrue();
            HttpClient http = HttpClient.newHttpClient();
            URI drain = URI.create("http://127.0.0.1:" + port + "/drain");
            var none = http.send(HttpRequest.newBuilder(drain).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(none.statusCode()).isEqualTo(401);
            assertThat(none.body()).contains("admin token required");
            var wrong = http.send(HttpRequest.newBuilder(drain).header("Authorization", "Bearer s3cres")
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(wrong.statusCode()).isEqualTo(401);
            for (String open : List.of("/health", "/metrics")) {
                assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + open)).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode()).as(open).isEqualTo(200);
            }
            assertThat(agent.status()).isEqualTo(WorkerStatus.READY);
            var right = http.send(HttpRequest.newBuilder(drain).header("Authorization", "Bearer s3cret")
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(right.statusCode()).isEqualTo(202);
            await().until(agent::isDrained);
        } finally {
            admin.stop(0);
        }
    }

    @Test
    void a_task_above_a_cap_is_refused_with_the_reason_and_never_run() {
        java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
        SimulatedSandbox inner = new SimulatedSandbox(0);
        start(task -> {
            ran.incrementAndGet();
            return inner.run(task);
        }, Map.of("agora.worker.max.memory.mb", "1024", "agora.worker.max.pids", "256"));
        offer(P3, Tasks.task(identity.workerId(), Tasks.spec("echo", "hi").setMemoryMb(65_536).setPidsLimit(65_536).build()));
        await().until(() -> !sent(Topics.RESULTS).isEmpty());
        TaskResult r = sent(Topics.RESULTS).get(0);
        assertThat(r.getStatus()).isEqualTo(ResultStatus.SANDBOX_ERROR);
        assertThat(r.getStatusReason()).contains("refused, not run",
                "memoryMb 65536 is above this worker's cap of 1024 (AGORA_WORKER_MAX_MEMORY_MB)",
                "pidsLimit 65536 is above this worker's cap of 256 (AGORA_WORKER_MAX_PIDS)");
        assertThat(ran).hasValue(0);
        offer(P3, Tasks.task(identity.workerId(), Tasks.spec("echo", "hi").setMemoryMb(1024).setPidsLimit(256).build()));
        await().until(() -> sent(Topics.RESULTS).size() == 2);
        assertThat(sent(Topics.RESULTS).get(1).getStatus()).isEqualTo(ResultStatus.SUCCEEDED);
        assertThat(ran).hasValue(1);
    }

    @Test
    void health_is_down_when_the_task_loop_died() {
        start(new SimulatedSandbox(0), Map.of());
        await().untilAsserted(() -> assertThat(agent.health()).containsEntry("status", "UP"));
        consumer.schedulePollTask(() -> {
            throw new IllegalStateException("consumer broke");
        });
        await().untilAsserted(() -> assertThat(agent.health()).containsEntry("status", "DOWN")
                .hasEntrySatisfying("reason", r -> assertThat((String) r).contains("task loop stopped", "consumer broke")));
    }

    @Test
    void skips_a_task_the_matcher_did_not_sign_without_running_or_answering_it() {
        start(new FixedDurationSandbox(10), Map.of());
        TaskAssigned unsigned = Tasks.task(identity.workerId(), Tasks.spec("echo", "unsigned").build());
        offerAsIs(P3, unsigned);
        offerAsIs(P3, Assignments.sign(Tasks.task(identity.workerId(), Tasks.spec("echo", "forged").build()), identity));
        TaskAssigned readdressed = Assignments.sign(Tasks.task("someone-else", Tasks.spec("echo", "x").build()), Tasks.MATCHER);
        readdressed.setWorkerId(identity.workerId()); // the matcher's task for another worker, altered on its way
        offerAsIs(P3, readdressed);
        TaskAssigned real = Tasks.task(identity.workerId(), Tasks.spec("echo", "real").build());
        offer(P3, real);
        await().until(() -> !sent(Topics.RESULTS).isEmpty());
        await().untilAsserted(() -> assertThat(consumer.committed(java.util.Set.of(P3)).get(P3).offset()).isEqualTo(4));
        assertThat(sent(Topics.RESULTS)).as("only the signed task is run and answered, nothing handed back")
                .extracting(TaskResult::getTaskId).containsExactly(real.getTaskId());
        assertThat(agent.health()).containsEntry("tasksRefusedUnsigned", 3L).containsEntry("tasksHandedBack", 0L);
    }

    @Test
    void registers_its_seal_key_and_runs_a_sealed_task_with_the_spec_only_it_can_open() {
        start(new SimulatedSandbox(0), Map.of());
        await().until(() -> !sent(Topics.REGISTRATIONS).isEmpty());
        assertThat(sent(Topics.REGISTRATIONS).get(0).getCapabilities().getSealKey()).isEqualTo(sealKeys.publicKey());
        TaskAssigned task = Tasks.task(identity.workerId(), Tasks.spec("echo", "secret").setEnv(Map.of("TOKEN", "s3")).build());
        offerAsIs(P3, Assignments.sign(TaskSeal.seal(task, sealKeys.publicKey()), Tasks.MATCHER));
        TaskAssigned elsewhere = Tasks.task(identity.workerId(), Tasks.spec("echo", "x").build());
        offerAsIs(P3, Assignments.sign(TaskSeal.seal(elsewhere, TaskSeal.Keys.generate().publicKey()), Tasks.MATCHER));
        await().until(() -> sent(Topics.RESULTS).size() == 2);
        TaskResult ran = sent(Topics.RESULTS).get(0);
        assertThat(ran.getStatus()).isEqualTo(ResultStatus.SUCCEEDED);
        assertThat(ran.getStdout()).as("run with the opened command and env")
                .isEqualTo(new String(new SimulatedSandbox(0).run(task).stdout(), StandardCharsets.UTF_8));
        TaskResult back = sent(Topics.RESULTS).get(1);
        assertThat(back.getStatus()).isEqualTo(ResultStatus.HANDED_BACK);
        assertThat(back.getStatusReason()).isEqualTo("sealed spec does not open with this worker's key");
    }

    @Test
    void hosts_several_identities_on_one_consumer_each_signing_its_own_messages() {
        Identity second = Identity.generate();
        Identity third = Identity.generate();
        start(new SimulatedSandbox(0), Map.of("agora.worker.pool", "lab"), List.of(second, third));
        List<String> ids = List.of(identity.workerId(), second.workerId(), third.workerId());
        await().untilAsserted(() -> assertThat(sent(Topics.HOST_BEATS).stream().flatMap(r -> r.getBeats().stream())
                .filter(b -> b.getOwnedPartitions().equals(List.of(3, 7))).map(b -> b.getWorkerId().toString())
                .distinct()).as("each identity lists the host's partitions").containsExactlyInAnyOrderElementsOf(ids));
        assertThat(sent(Topics.REGISTRATIONS)).extracting(r -> r.getWorkerId().toString())
                .containsExactlyInAnyOrderElementsOf(ids);
        TaskAssigned toSecond = Tasks.task(second.workerId(), Tasks.spec("echo", "2").build());
        TaskAssigned toThird = Tasks.task(third.workerId(), Tasks.spec("echo", "3").build());
        TaskAssigned toNobody = Tasks.task("someone-else", Tasks.spec("echo", "x").build());
        offerBatch(P3, toSecond, toThird, toNobody);
        await().until(() -> sent(Topics.RESULTS).size() == 3);
        Map<String, String> byTask = new HashMap<>();
        for (TaskResult r : sent(Topics.RESULTS)) {
            assertThat(SignedMessages.verifySignature(r).accepted()).isTrue();
            byTask.put(r.getTaskId().toString(), r.getWorkerId() + " " + r.getStatus());
        }
        assertThat(byTask).containsOnly(Map.entry(toSecond.getTaskId().toString(), second.workerId() + " SUCCEEDED"),
                Map.entry(toThird.getTaskId().toString(), third.workerId() + " SUCCEEDED"),
                Map.entry(toNobody.getTaskId().toString(), identity.workerId() + " HANDED_BACK"));
        await().untilAsserted(() -> assertThat(agent.health()).containsEntry("identities", 3)
                .containsEntry("identitiesWithTasks", 2L).containsEntry("tasksDone", 2L));
        agent.drain();
        assertThat(sent(Topics.REGISTRATIONS).stream().filter(r -> r.getType() == RegistrationType.DEREGISTERED)
                .map(r -> r.getWorkerId().toString())).as("every identity leaves").containsExactlyInAnyOrderElementsOf(ids);
    }

    @Test
    void a_host_sends_its_identities_beats_in_records_per_partition_each_beat_signed_by_its_own_key() {
        List<Identity> cohosted = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            cohosted.add(Identity.generate());
        }
        start(new SimulatedSandbox(0), Map.of("agora.worker.heartbeat.idle.ms", "50"), cohosted); // every round: every identity
        Set<String> ids = new HashSet<>(List.of(identity.workerId()));
        cohosted.forEach(c -> ids.add(c.workerId()));
        await().untilAsserted(() -> assertThat(sent(Topics.HOST_BEATS).stream().flatMap(r -> r.getBeats().stream())
                .map(b -> b.getWorkerId().toString()).distinct()).containsExactlyInAnyOrderElementsOf(ids));
        agent.drain();
        List<ProducerRecord<byte[], byte[]>> records = producer.history().stream()
                .filter(r -> r.topic().equals(Topics.HOST_BEATS.name())).toList();
        var de = serdes.valueSerde(Topics.HOST_BEATS).deserializer();
        Map<String, WorkerStatus> last = new HashMap<>();
        for (ProducerRecord<byte[], byte[]> r : records) {
            HostHeartbeat hb = de.deserialize(r.topic(), r.value());
            String key = new String(r.key(), StandardCharsets.UTF_8);
            assertThat(key).as("keyed by its first identity").isEqualTo(hb.getBeats().get(0).getWorkerId());
            assertThat(hb.getHost()).isEqualTo(identity.workerId());
            assertThat(Signatures.verify(hb, identity.workerId())).as("signed by the host").isTrue();
            for (HostedBeat b : hb.getBeats()) {
                assertThat(HostBeats.partition(b.getWorkerId())).as("one partition per record").isEqualTo(HostBeats.partition(key));
                assertThat(b.getSeq()).isEqualTo(hb.getSeq());
                assertThat(b.getHost()).isEqualTo(identity.workerId());
                assertThat(Signatures.verify(b, b.getWorkerId())).as("signed by its identity").isTrue();
                last.put(b.getWorkerId(), b.getStatus());
            }
        }
        assertThat(records.stream().map(r -> de.deserialize(r.topic(), r.value()).getSeq()).distinct().count())
                .as("a sequence number per record").isEqualTo(records.size());
        assertThat(records.stream().mapToInt(r -> de.deserialize(r.topic(), r.value()).getBeats().size()).max().orElse(0))
                .as("12 identities on 6 partitions: a record carries several").isGreaterThan(1);
        assertThat(sent(Topics.HEARTBEATS)).as("no identity of a host beats on its own").isEmpty();
        assertThat(last).as("the last round says every identity drains").hasSize(ids.size())
                .allSatisfy((id, status) -> assertThat(status).isEqualTo(WorkerStatus.DRAINING));
    }

    @Test
    void hands_back_a_task_addressed_to_another_worker() {
        GatedSandbox sandbox = new GatedSandbox();
        start(sandbox, Map.of());
        offer(P7, Tasks.task("someone-else", Tasks.spec("echo", "hi").build()));
        await().until(() -> !sent(Topics.RESULTS).isEmpty());
        TaskResult r = sent(Topics.RESULTS).get(0);
        assertThat(r.getStatus()).isEqualTo(ResultStatus.HANDED_BACK);
        assertThat(r.getWorkerId()).isEqualTo(identity.workerId());
        assertThat(r.getStatusReason()).contains("misrouted");
        assertThat(SignedMessages.verifySignature(r).accepted()).isTrue();
        assertThat(agent.health()).containsEntry("activeTasks", 0);
        sandbox.gate.countDown();
    }

    @Test
    void pauses_when_full_lists_queued_tasks_and_drain_hands_them_back() {
        GatedSandbox sandbox = new GatedSandbox();
        start(sandbox, Map.of());
        TaskAssigned first = Tasks.task(identity.workerId(), Tasks.spec("echo", "1").build());
        TaskAssigned second = Tasks.task(identity.workerId(), Tasks.spec("echo", "2").build());
        offerBatch(P3, first, second);
        await().untilAsserted(() -> assertThat(lastHeartbeat()).hasValueSatisfying(hb -> {
            assertThat(hb.getStatus()).isEqualTo(WorkerStatus.FULL);
            assertThat(hb.getFreeSlots()).isZero();
            assertThat(hb.getInFlightTaskIds()).containsExactlyInAnyOrder(first.getTaskId(), second.getTaskId());
        }));
        await().untilAsserted(() -> assertThat(consumer.paused()).containsExactlyInAnyOrder(P3, P7));

        Thread drainer = new Thread(agent::drain);
        drainer.start();
        await().untilAsserted(() -> assertThat(sent(Topics.RESULTS)).anySatisfy(r -> {
            assertThat(r.getTaskId()).isEqualTo(second.getTaskId());
            assertThat(r.getStatus()).isEqualTo(ResultStatus.HANDED_BACK);
        }));
        await().untilAsserted(() -> assertThat(lastHeartbeat().orElseThrow().getStatus()).isEqualTo(WorkerStatus.DRAINING));
        sandbox.gate.countDown(); // the running task finishes during the drain
        await().until(agent::isDrained);
        assertThat(sent(Topics.RESULTS)).anySatisfy(r -> {
            assertThat(r.getTaskId()).isEqualTo(first.getTaskId());
            assertThat(r.getStatus()).isEqualTo(ResultStatus.SUCCEEDED);
        });
        List<WorkerRegistration> regs = sent(Topics.REGISTRATIONS);
        assertThat(regs.get(regs.size() - 1).getType()).isEqualTo(RegistrationType.DEREGISTERED);
        assertThat(consumer.closed()).isTrue();
    }

    @Test
    void holds_no_more_tasks_than_a_heartbeat_lists_and_lists_no_more_while_results_await_their_acks() {
        producer.holdResults = true;
        start(new SimulatedSandbox(0), Map.of("agora.worker.max.concurrent", "300"));
        await().until(() -> !sent(Topics.REGISTRATIONS).isEmpty());
        TaskAssigned[] tasks = new TaskAssigned[300];
        for (int i = 0; i < tasks.length; i++) {
            tasks[i] = Tasks.task(identity.workerId(), Tasks.spec("echo", Integer.toString(i)).build());
        }
        offerBatch(P3, tasks);
        await().untilAsserted(() -> assertThat(agent.health()).containsEntry("tasksDone", 300L));
        // every result sent, none acknowledged: all 300 are still held, and a heartbeat lists what the matcher reads
        await().untilAsserted(() -> assertThat(lastHeartbeat()).hasValueSatisfying(hb -> {
            assertThat(hb.getInFlightTaskIds()).hasSize(Limits.HEARTBEAT_TASKS_MAX).doesNotHaveDuplicates();
            assertThat(hb.getFreeSlots()).isEqualTo(Limits.HEARTBEAT_TASKS_MAX);
        }));
        assertThat(WorkerConfig.from(AgoraConfig.of(Map.of("agora.worker.max.concurrent", "300"))).slots())
                .isEqualTo(Limits.HEARTBEAT_TASKS_MAX);
    }

    @Test
    void takes_queued_tasks_beyond_its_running_ones_and_starts_each_when_a_running_one_ends() {
        GatedSandbox sandbox = new GatedSandbox();
        start(sandbox, Map.of("agora.worker.queued.tasks", "1"));
        await().until(() -> !sent(Topics.REGISTRATIONS).isEmpty());
        assertThat(sent(Topics.REGISTRATIONS).get(0).getCapabilities().getMaxConcurrent()).isEqualTo(2);
        TaskAssigned first = Tasks.task(identity.workerId(), Tasks.spec("echo", "1").build());
        TaskAssigned second = Tasks.task(identity.workerId(), Tasks.spec("echo", "2").build());
        offer(P3, first);
        await().untilAsserted(() -> assertThat(lastHeartbeat()).hasValueSatisfying(hb -> {
            assertThat(hb.getStatus()).isEqualTo(WorkerStatus.READY);
            assertThat(hb.getFreeSlots()).isEqualTo(1);
        }));
        assertThat(consumer.paused()).isEmpty();
        offer(P3, second);
        await().untilAsserted(() -> assertThat(lastHeartbeat()).hasValueSatisfying(hb -> {
            assertThat(hb.getStatus()).isEqualTo(WorkerStatus.FULL);
            assertThat(hb.getFreeSlots()).isZero();
        }));
        // one runs (max.concurrent 1), the other waits for it
        await().untilAsserted(() -> assertThat(agent.health()).containsEntry("activeTasks", 1).containsEntry("queuedTasks", 1));
        await().untilAsserted(() -> assertThat(consumer.paused()).containsExactlyInAnyOrder(P3, P7));
        sandbox.gate.countDown();
        await().untilAsserted(() -> assertThat(agent.health()).containsEntry("tasksDone", 2L));
    }

    @Test
    void an_undecodable_task_goes_to_the_dlq_and_the_worker_goes_on() {
        start(new SimulatedSandbox(0), Map.of());
        offerRaw(P3, "x", new byte[]{(byte) 0xff, 1, 2});
        TaskAssigned ok = Tasks.task(identity.workerId(), Tasks.spec("echo", "ok").build());
        offer(P3, ok);
        await().until(() -> !sent(Topics.RESULTS).isEmpty());
        ProducerRecord<byte[], byte[]> dlq = producer.history().stream().filter(r -> r.topic().equals(Topics.DLQ.name()))
                .findFirst().orElseThrow();
        assertThat(DeadLetters.header(dlq.headers(), DeadLetters.H_REASON)).contains("undecodable TaskAssigned");
        assertThat(sent(Topics.RESULTS).get(0).getTaskId()).isEqualTo(ok.getTaskId());
    }

    @Test
    void an_unreachable_engine_degrades_the_worker_and_pauses_it() {
        Sandbox down = new Sandbox() {
            @Override
            public SandboxOutcome run(TaskAssigned task) {
                throw new AssertionError("must not run while degraded");
            }

            @Override
            public Optional<String> probe() {
                engine.onFailure("docker engine unreachable: connection refused");
                return Optional.of("docker engine unreachable");
            }
        };
        start(down, Map.of());
        await().untilAsserted(() -> assertThat(lastHeartbeat()).hasValueSatisfying(hb -> {
            assertThat(hb.getStatus()).isEqualTo(WorkerStatus.DEGRADED);
            assertThat(hb.getStatusReason()).contains("docker engine unreachable");
            assertThat(hb.getFreeSlots()).isZero();
        }));
        await().untilAsserted(() -> assertThat(consumer.paused()).containsExactlyInAnyOrder(P3, P7));
        assertThat(agent.health()).containsEntry("status", "DEGRADED");
    }

    @Test
    void a_worker_started_before_the_market_measures_its_bandwidth_later_and_registers_again() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort(); // nothing listens there until the market starts
        }
        Identity coHosted = Identity.generate();
        start(new SimulatedSandbox(0), Map.of("agora.worker.api.url", "http://127.0.0.1:" + port,
                "agora.worker.network.probe.url", "", "agora.worker.disk.probe.mb", "0"), List.of(coHosted));
        await().until(() -> sent(Topics.REGISTRATIONS).size() >= 2);
        assertThat(sent(Topics.REGISTRATIONS)).as("unreachable at start: 0 (unknown), unattested")
                .allSatisfy(r -> {
                    assertThat(r.getCapabilities().getNetworkMbps()).isZero();
                    assertThat(r.getCapabilities().getNetworkAttestation()).isNull();
                });
        try (ProbeMarket market = new ProbeMarket(port, true)) {
            java.util.function.Function<String, List<WorkerRegistration>> of = id -> sent(Topics.REGISTRATIONS).stream()
                    .filter(r -> r.getWorkerId().equals(id)).toList();
            await().untilAsserted(() -> {
                assertThat(of.apply(identity.workerId())).hasSize(2);
                assertThat(of.apply(coHosted.workerId())).hasSize(2);
            });
            ReplayGuard guard = new ReplayGuard();
            for (Identity id : List.of(identity, coHosted)) {
                List<WorkerRegistration> regs = of.apply(id.workerId());
                WorkerRegistration again = regs.get(1);
                assertThat(again.getType()).isEqualTo(RegistrationType.REGISTERED);
                assertThat(again.getSeq()).isGreaterThan(regs.get(0).getSeq());
                assertThat(SignedMessages.verify(regs.get(0), guard).accepted()).isTrue();
                assertThat(SignedMessages.verify(again, guard).accepted()).as("signed, and no replay").isTrue();
                var caps = again.getCapabilities();
                assertThat(caps.getNetworkMbps()).isPositive();
                long now = System.currentTimeMillis();
                assertThat(io.agora.market.BandwidthAttestation.verdict(ProbeMarket.KEY, id.workerId(), caps.getNetworkMbps(),
                        caps.getNetworkAttestation(), now).mbps()).as("the market's attestation names it").isPositive();
                assertThat(io.agora.market.PohChallenge.check(ProbeMarket.KEY, caps.getBenchmarkProof().getSeed(),
                        id.workerId(), now)).as("a fresh proof answering the market's challenge").isNull();
            }
        }
        assertThat(agent.capabilities().getNetworkMbps()).isPositive();
    }

    @Test
    void asks_the_market_challenge_after_its_probes_right_before_registering() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        try (ProbeMarket market = new ProbeMarket(port, true)) {
            start(new SimulatedSandbox(0), Map.of("agora.worker.api.url", "http://127.0.0.1:" + port,
                    "agora.worker.network.probe.url", "", "agora.worker.disk.probe.mb", "0"));
            await().until(() -> !sent(Topics.REGISTRATIONS).isEmpty());
            assertThat(market.asked).as("a slow probe cannot age the challenge").containsExactly("probe", "attestation", "challenge");
            assertThat(io.agora.market.PohChallenge.check(ProbeMarket.KEY,
                    sent(Topics.REGISTRATIONS).get(0).getCapabilities().getBenchmarkProof().getSeed(), identity.workerId(),
                    System.currentTimeMillis())).isNull();
        }
    }

    /**
     * Starts against a market whose challenge it answers, the broker appending its first registration 146 s after the
     * challenge was issued (past the window, so it registers again) and the next ones at once; the registrations
     * once there are two, and the market's requests into {@code asked}.
     */
    List<WorkerRegistration> registeredAgainAfterAStaleArrival(List<String> asked) throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        var reader = serdes.avroSerde(WorkerRegistration.class).deserializer();
        java.util.concurrent.atomic.AtomicInteger arrivals = new java.util.concurrent.atomic.AtomicInteger();
        producer.arrival = r -> {
            if (!r.topic().equals(Topics.REGISTRATIONS.name())) {
                return System.currentTimeMillis();
            }
            String seed = reader.deserialize(r.topic(), r.value()).getCapabilities().getBenchmarkProof().getSeed();
            long issued = io.agora.market.PohChallenge.parse(seed).issuedAt();
            return arrivals.getAndIncrement() == 0 ? issued + 146_000 : issued + 1;
        };
        try (ProbeMarket market = new ProbeMarket(port, true)) {
            start(new SimulatedSandbox(0), Map.of("agora.worker.api.url", "http://127.0.0.1:" + port,
                    "agora.worker.network.probe.url", "off", "agora.worker.disk.probe.mb", "0"));
            await().until(() -> sent(Topics.REGISTRATIONS).size() >= 2);
            asked.addAll(market.asked);
            return sent(Topics.REGISTRATIONS);
        }
    }

    @Test
    void a_registration_arriving_past_its_challenges_window_is_sent_again_with_a_new_challenge() throws Exception {
        List<String> asked = new java.util.ArrayList<>();
        List<WorkerRegistration> regs = registeredAgainAfterAStaleArrival(asked);
        assertThat(regs).hasSize(2);
        String stale = regs.get(0).getCapabilities().getBenchmarkProof().getSeed();
        String fresh = regs.get(1).getCapabilities().getBenchmarkProof().getSeed();
        assertThat(fresh).isNotEqualTo(stale);
        assertThat(regs.get(1).getSeq()).isGreaterThan(regs.get(0).getSeq());
        assertThat(io.agora.market.PohChallenge.check(ProbeMarket.KEY, fresh, identity.workerId(), System.currentTimeMillis()))
                .isNull();
        assertThat(asked).containsExactly("challenge", "challenge");
    }

    @Test
    void a_registration_again_that_meets_a_registry_outage_is_sent_once_the_registry_answers() throws Exception {
        registrations.away = n -> n == 2 || n == 3; // the two tries after the first registration
        List<WorkerRegistration> regs = registeredAgainAfterAStaleArrival(new java.util.ArrayList<>());
        assertThat(regs).hasSize(2);
        assertThat(registrations.calls.get()).as("two tries met the outage, the third was sent").isEqualTo(4);
        assertThat(regs.get(1).getType()).isEqualTo(RegistrationType.REGISTERED);
        assertThat(regs.get(1).getSeq()).isGreaterThan(regs.get(0).getSeq());
        ReplayGuard guard = new ReplayGuard();
        assertThat(SignedMessages.verify(regs.get(0), guard).accepted()).isTrue();
        assertThat(SignedMessages.verify(regs.get(1), guard).accepted()).isTrue();
        assertThat(io.agora.market.PohChallenge.check(ProbeMarket.KEY, regs.get(1).getCapabilities().getBenchmarkProof()
                .getSeed(), identity.workerId(), System.currentTimeMillis())).as("a fresh proof").isNull();
        assertThat((String) agent.health().get("lastError")).startsWith("not registered again, trying again in 1000 ms")
                .contains("Connection refused");
    }

    @Test
    void a_drain_during_a_registry_outage_deregisters_once_the_registry_answers() throws Exception {
        Identity coHosted = Identity.generate();
        start(new SimulatedSandbox(0), Map.of(), List.of(coHosted));
        await().until(() -> sent(Topics.REGISTRATIONS).size() == 2);
        registrations.away = n -> true;
        Thread draining = new Thread(agent::drain);
        draining.start();
        await().untilAsserted(() -> assertThat((String) agent.health().get("lastError"))
                .startsWith("2 not deregistered, trying again in").contains("Connection refused"));
        assertThat(agent.isDrained()).isFalse();
        registrations.away = n -> false;
        draining.join();
        assertThat(agent.isDrained()).isTrue();
        List<WorkerRegistration> regs = sent(Topics.REGISTRATIONS);
        assertThat(regs.subList(2, regs.size())).extracting(WorkerRegistration::getType)
                .containsExactly(RegistrationType.DEREGISTERED, RegistrationType.DEREGISTERED);
        assertThat(regs.subList(2, regs.size())).extracting(WorkerRegistration::getWorkerId)
                .containsExactlyInAnyOrder(identity.workerId(), coHosted.workerId());
        ReplayGuard guard = new ReplayGuard();
        assertThat(regs).allSatisfy(r -> assertThat(SignedMessages.verify(r, guard).accepted()).isTrue());
    }

    @Test
    void a_registry_outage_that_outlasts_the_deregistration_limit_is_logged_and_the_worker_goes() {
        start(new SimulatedSandbox(0), Map.of("agora.worker.deregister.timeout.ms", "1200"));
        await().until(() -> sent(Topics.REGISTRATIONS).size() == 1);
        registrations.away = n -> true;
        agent.close();
        assertThat(agent.isDrained()).isTrue();
        assertThat(sent(Topics.REGISTRATIONS)).extracting(WorkerRegistration::getType).containsExactly(RegistrationType.REGISTERED);
        assertThat((String) agent.health().get("lastError"))
                .isEqualTo("1 deregistrations not sent within deregister.timeout.ms (1200 ms): the matcher takes them for offline after its grace");
        agent = null;
    }
}
