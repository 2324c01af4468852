package io.agora.infra.bench;

import io.agora.infra.LocalStack;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The broker's raw produce rate on the benchmark's stack: one plain producer (acks=all,
 * idempotent, the services' linger of 5 ms, as the admin principal) writing records of a given
 * size as fast as the broker acknowledges them (at most {@value #IN_FLIGHT} unacknowledged, so the
 * figure is the broker's rate and not the client's queue) to a scratch topic with as many
 * partitions as the market's topics ({@code Topics.PARTITIONS}), for a fixed time. The market's records per second divided by this rate is the
 * pipeline's efficiency: how much of what the broker can take the market turns into work.
 */
final class RawProduceRate {
    static final String TOPIC = "agora.bench.raw";
    static final int IN_FLIGHT = 5_000;

    /** Records written, the time it took and the record size. */
    record Rate(long records, double seconds, int recordBytes) {
        double perSecond() {
            return records / seconds;
        }
    }

    private RawProduceRate() {
    }

    /** Produces {@code recordBytes}-byte values (a 36-byte key) for {@code seconds} seconds; the topic is deleted after. */
    static Rate measure(LocalStack stack, int partitions, int recordBytes, double seconds) throws Exception {
        Properties admin = new Properties();
        admin.put("bootstrap.servers", stack.bootstrap());
        admin.putAll(stack.adminClientProperties());
        try (Admin a = Admin.create(admin)) {
            try {
                a.deleteTopics(List.of(TOPIC)).all().get(30, TimeUnit.SECONDS); // left by an interrupted run
            } catch (ExecutionException absent) {
                // the usual case
            }
            createTopic(a, partitions);
            try {
                return produce(stack, recordBytes, seconds);
            } finally {
                a.deleteTopics(List.of(TOPIC)).all().get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static void createTopic(Admin a, int partitions) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                a.createTopics(List.of(new NewTopic(TOPIC, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException e) {
                if (attempt >= 20) { // a deletion of the previous run's topic still under way
                    throw e;
                }
                Thread.sleep(500);
            }
        }
    }

    private static Rate produce(LocalStack stack, int recordBytes, double seconds)
            throws InterruptedException, TimeoutException {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrap());
        p.putAll(stack.adminClientProperties());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        byte[] value = new byte[Math.max(1, recordBytes)];
        ThreadLocalRandom.current().nextBytes(value);
        AtomicReference<Exception> failure = new AtomicReference<>();
        Semaphore inFlight = new Semaphore(IN_FLIGHT);
        long sent = 0;
        long start;
        long end;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.partitionsFor(TOPIC); // metadata first: not part of the rate
            start = System.nanoTime();
            long until = start + (long) (seconds * 1e9);
            while (System.nanoTime() < until && failure.get() == null) {
                byte[] key = String.format("job-%032d", sent).getBytes(StandardCharsets.UTF_8);
                inFlight.acquire();
                producer.send(new ProducerRecord<>(TOPIC, key, value), (md, e) -> {
                    inFlight.release();
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    }
                });
                sent++;
            }
            producer.flush();
            end = System.nanoTime();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("raw produce failed", failure.get());
        }
        return new Rate(sent, (end - start) / 1e9, value.length);
    }

    /** The line the benchmark prints. */
    static String describe(Rate raw, double marketRecordsPerSecond) {
        return String.format(java.util.Locale.ROOT,
                "broker raw produce   %.0f records/s (%d-byte values, acks=all, idempotent, one producer, %.1f s); market"
                        + " drove %.0f records/s: efficiency %.1f%%", raw.perSecond(), raw.recordBytes(), raw.seconds(),
                marketRecordsPerSecond, 100.0 * marketRecordsPerSecond / raw.perSecond());
    }
}
