package io.agora.worker;

import io.agora.schemas.AgoraConfig;
import io.agora.events.Heartbeat;
import io.agora.events.RegistrationType;
import io.agora.events.ResultStatus;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.events.WorkerRegistration;
import io.agora.events.WorkerStatus;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.Identity;
import io.agora.schemas.Topics;
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

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
    final Identity identity = Identity.generate();
    final SlowMockConsumer consumer = new SlowMockConsumer();
    final MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    final CircuitBreaker engine = new CircuitBreaker("docker engine", 1, 60_000);
    final CircuitBreaker produce = new CircuitBreaker("kafka produce", 3, 60_000);
    WorkerAgent agent;
    long offset;

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

    WorkerAgent start(Sandbox sandbox, Map<String, String> extra) {
        Map<String, String> c = new HashMap<>(Map.of("agora.worker.state.dir", dir.toString(),
                "agora.worker.heartbeat.ms", "50", "agora.worker.benchmark.ms", "10", "agora.worker.poll.ms", "20",
                "agora.worker.max.concurrent", "1", "agora.worker.drain.timeout.ms", "5000"));
        c.putAll(extra);
        WorkerConfig cfg = WorkerConfig.from(AgoraConfig.of(c));
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(P3, P7));
            consumer.updateBeginningOffsets(Map.of(P3, 0L, P7, 0L));
        });
        agent = new WorkerAgent(cfg, new MessageSigner(identity, new SeqClock(cfg.seqFile())), consumer, producer,
                serdes, sandbox, engine, produce);
        agent.start();
        return agent;
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
    }

    void offer(TopicPartition tp, TaskAssigned task) {
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
                        ser.serialize(tp.topic(), tasks[i])));
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

    @Test
    void runs_a_task_produces_a_signed_result_and_commits() {
        start(new SimulatedSandbox(0), Map.of());
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
        TaskAssigned next = Tasks.task(identity.workerId(), Tasks.spec("echo", "next").build());
        offer(P7, next);
        await().until(() -> sent(Topics.RESULTS).size() == 2);
        assertThat((Long) agent.health().get("earningsMicros")).isGreaterThanOrEqualTo(0);
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
}
