package io.agora.infra;

import io.agora.events.TaskResult;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Fixtures;
import io.agora.schemas.Topics;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A record goes through the real broker and registry in the Confluent wire format and comes back
 * equal; records after the first are written and read without Apicurio and still match it byte for byte.
 */
class SerdeRoundTripIT {

    @Test
    void producesAndConsumesThroughTheRegistry() throws Exception {
        LocalStack stack = LocalStack.shared();
        AgoraSerdes serdes = AgoraSerdes.registry(stack.registryUrl());
        Serde<TaskResult> serde = serdes.valueSerde(Topics.RESULTS);
        String jobId = "it-" + UUID.randomUUID();
        TaskResult sent = Fixtures.result(jobId, "w-it", 0, 0, "hello\n");

        RecordMetadata meta;
        try (KafkaProducer<String, TaskResult> producer = new KafkaProducer<>(stack.asAdmin(Map.of(ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true)),
                new StringSerializer(), serde.serializer())) {
            meta = producer.send(new ProducerRecord<>(Topics.RESULTS.name(), jobId, sent)).get(30, TimeUnit.SECONDS);
        }

        TopicPartition tp = new TopicPartition(meta.topic(), meta.partition());
        List<ConsumerRecord<String, byte[]>> got = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(stack.asAdmin(Map.of(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false)),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, meta.offset());
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
                return !got.isEmpty();
            });
        }

        ConsumerRecord<String, byte[]> raw = got.get(0);
        assertThat(raw.key()).isEqualTo(jobId);
        byte[] bytes = raw.value();
        assertThat(bytes[0]).as("Confluent magic byte").isEqualTo((byte) 0);
        int schemaId = ByteBuffer.wrap(bytes, 1, 4).getInt();
        assertThat(schemaId).as("registry id in the header").isPositive();
        assertThat(raw.headers().toArray()).as("no Apicurio headers").isEmpty();

        TaskResult received = serde.deserializer().deserialize(raw.topic(), bytes);
        assertThat(received).isEqualTo(sent);

        // after a topic's first record and a content id's first read, RegistryCodec writes and reads
        // the wire format itself: the same bytes as Apicurio's serializer, the same record back
        AvroKafkaSerializer<TaskResult> apicurio = new AvroKafkaSerializer<>();
        apicurio.configure(serdes.registryProperties(), false);
        for (int replica = 1; replica <= 3; replica++) {
            TaskResult next = Fixtures.result(jobId, "w-it", replica, 0, "output " + replica + "\n");
            byte[] direct = serde.serializer().serialize(raw.topic(), next);
            assertThat(direct).as("replica " + replica).isEqualTo(apicurio.serialize(raw.topic(), next));
            assertThat(serde.deserializer().deserialize(raw.topic(), direct)).isEqualTo(next);
        }
        assertThat(serde.deserializer().deserialize(raw.topic(), bytes)).isEqualTo(sent);
    }
}
