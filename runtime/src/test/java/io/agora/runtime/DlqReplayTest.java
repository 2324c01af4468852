package io.agora.runtime;

import io.agora.schemas.DeadLetters;
import io.agora.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DlqReplayTest {
    static final TopicPartition DLQ = new TopicPartition(Topics.DLQ.name(), 0);

    MockConsumer<byte[], byte[]> consumer;
    MockProducer<byte[], byte[]> producer;
    ByteArrayOutputStream printed;
    DlqReplay replay;

    @BeforeEach
    void setUp() {
        consumer = new MockConsumer<>(OffsetResetStrategy.EARLIEST);
        producer = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        printed = new ByteArrayOutputStream();
        replay = new DlqReplay(consumer, producer, new PrintStream(printed, true, StandardCharsets.UTF_8));
        consumer.updateBeginningOffsets(Map.of(DLQ, 0L));
        dead(0, "agora-matcher", "processing failed in pool-market: ArithmeticException: long overflow",
                Topics.HEARTBEATS.name(), 3, "w1", "beat-1");
        dead(1, "agora-verifier", "unknown task j1/0/0", Topics.RESULTS.name(), 1, "j1", "result-1");
        dead(2, "agora-matcher", "processing failed in worker-gate: NullPointerException", Topics.REGISTRATIONS.name(), 0,
                "w2", "registration-1");
        dead(3, "agora-matcher", "processing failed in pool-market: IllegalStateException", "unknown", -1, "x", "y");
        consumer.updateEndOffsets(Map.of(DLQ, 4L));
    }

    void dead(long offset, String app, String reason, String topic, int partition, String key, String value) {
        Headers h = DeadLetters.headers(app, reason, topic, partition, 100 + offset);
        consumer.schedulePollTask(() -> consumer.addRecord(new ConsumerRecord<>(DLQ.topic(), 0, offset, 0L,
                TimestampType.CREATE_TIME, 0, 0, bytes(key), bytes(value), h, Optional.empty())));
    }

    @Test
    void replaysMatchingDeadLettersToTheirOriginalTopicAndPartition() {
        DlqReplay.Summary s = replay.replay(new DlqReplay.Filter(Set.of(), "processing failed", null, 0, null), false);

        assertThat(s).isEqualTo(new DlqReplay.Summary(4, 2, 2));
        List<ProducerRecord<byte[], byte[]>> sent = producer.history();
        assertThat(sent).extracting(ProducerRecord::topic)
                .containsExactly(Topics.HEARTBEATS.name(), Topics.REGISTRATIONS.name());
        assertThat(sent).extracting(ProducerRecord::partition).containsExactly(3, 0);
        assertThat(new String(sent.get(0).key(), StandardCharsets.UTF_8)).isEqualTo("w1");
        assertThat(new String(sent.get(0).value(), StandardCharsets.UTF_8)).isEqualTo("beat-1");
        assertThat(DeadLetters.header(sent.get(0).headers(), DlqReplay.H_REPLAYED_FROM)).isEqualTo("agora.dlq@0");
        assertThat(DeadLetters.header(sent.get(0).headers(), DeadLetters.H_REASON)).isNull();
        assertThat(printed.toString(StandardCharsets.UTF_8)).contains("agora.dlq@3 skip: no original topic");
    }

    @Test
    void filtersByTopicAndApp() {
        replay.replay(new DlqReplay.Filter(Set.of(Topics.RESULTS.name()), null, "agora-verifier", 0, null), false);
        assertThat(producer.history()).extracting(ProducerRecord::topic).containsExactly(Topics.RESULTS.name());
    }

    @Test
    void aDryRunSendsNothing() {
        DlqReplay.Summary s = replay.replay(DlqReplay.Filter.ALL, true);

        assertThat(s.replayed()).isEqualTo(3);
        assertThat(producer.history()).isEmpty();
        assertThat(printed.toString(StandardCharsets.UTF_8))
                .contains("agora.dlq@1 would replay to agora.jobs.results-1 (agora-verifier: unknown task j1/0/0)")
                .contains("dry run: 4 dead letters read, 3 would be replayed, 1 left alone");
    }

    @Test
    void anOffsetRangeLimitsTheReplay() {
        replay.replay(new DlqReplay.Filter(Set.of(), null, null, 1, 2L), false);
        assertThat(producer.history()).extracting(ProducerRecord::topic).containsExactly(Topics.RESULTS.name());
    }

    @Test
    void parsesTheCommandLine() {
        DlqReplay.Command c = DlqReplay.parse(List.of("--topic", "agora.jobs.results", "--reason", "overflow",
                "--from", "10", "--dry-run", "--bootstrap", "b:9092"));
        assertThat(c).isEqualTo(new DlqReplay.Command(
                new DlqReplay.Filter(Set.of("agora.jobs.results"), "overflow", null, 10, null), true, "b:9092"));
        assertThatThrownBy(() -> DlqReplay.parse(List.of("--topic"))).hasMessageStartingWith("--topic needs a value");
        assertThatThrownBy(() -> DlqReplay.parse(List.of("--nope"))).hasMessageContaining("usage:");
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
