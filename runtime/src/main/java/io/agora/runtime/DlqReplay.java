package io.agora.runtime;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.Topics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * Sends dead letters back to where they came from, once what sent them to {@code agora.dlq} is
 * fixed (a bug in a processor, a size limit). Reads {@code agora.dlq} (read_committed, no consumer
 * group: it moves nobody's offsets) from an offset up to the end it finds at start, keeps the
 * records that match the filter, and writes each one's original key and value to its original
 * topic and partition (headers {@code agora.dlq.topic} and {@code agora.dlq.partition}), with a
 * header {@code agora.replayed.from} naming the DLQ offset. A record that fails again is
 * dead-lettered again, by the app that reads it.
 *
 * <pre>
 * java -cp runtime/target/classes:$(cat runtime/target/classpath.txt) io.agora.runtime.DlqReplay \
 *     [--bootstrap host:9092] [--topic agora.jobs.results]... [--reason "processing failed"] [--app agora-matcher] \
 *     [--from 0] [--to 1200] [--dry-run]
 * </pre>
 * {@code --dry-run} lists what would be sent and sends nothing. Replaying twice sends twice: the
 * apps and the sink refuse most repeats (event ids, transaction ids, sequence numbers), but pick
 * {@code --from}/{@code --to} so that each dead letter is replayed once.
 */
public final class DlqReplay {
    /** Header of a replayed record: the DLQ offset it was replayed from. */
    public static final String H_REPLAYED_FROM = "agora.replayed.from";

    /**
     * Which dead letters to replay: original topics (empty = any), a piece of the reason
     * (case-insensitive, null = any), the app that dead-lettered them (null = any), and the
     * DLQ offsets {@code [from, to)} ({@code to} null = the end at start).
     */
    public record Filter(Set<String> topics, String reasonContains, String app, long from, Long to) {
        public static final Filter ALL = new Filter(Set.of(), null, null, 0, null);

        boolean matches(String topic, String reason, String fromApp) {
            return (topics.isEmpty() || topics.contains(topic))
                    && (reasonContains == null || (reason != null
                    && reason.toLowerCase(Locale.ROOT).contains(reasonContains.toLowerCase(Locale.ROOT))))
                    && (app == null || app.equals(fromApp));
        }
    }

    /** What one run did: dead letters read, sent back (or that would be, in a dry run), left alone. */
    public record Summary(int read, int replayed, int skipped) {
    }

    private final Consumer<byte[], byte[]> dlq;
    private final Producer<byte[], byte[]> producer;
    private final PrintStream out;

    public DlqReplay(Consumer<byte[], byte[]> dlq, Producer<byte[], byte[]> producer, PrintStream out) {
        this.dlq = dlq;
        this.producer = producer;
        this.out = out;
    }

    public Summary replay(Filter filter, boolean dryRun) {
        List<TopicPartition> partitions = new ArrayList<>();
        List<PartitionInfo> infos = dlq.partitionsFor(Topics.DLQ.name());
        if (infos == null || infos.isEmpty()) {
            partitions.add(new TopicPartition(Topics.DLQ.name(), 0));
        } else {
            infos.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
        }
        dlq.assign(partitions);
        Map<TopicPartition, Long> ends = dlq.endOffsets(partitions);
        Map<TopicPartition, Long> starts = dlq.beginningOffsets(partitions);
        Set<TopicPartition> open = new HashSet<>();
        for (TopicPartition tp : partitions) {
            long end = filter.to() == null ? ends.getOrDefault(tp, 0L) : Math.min(filter.to(), ends.getOrDefault(tp, 0L));
            long start = Math.max(filter.from(), starts.getOrDefault(tp, 0L));
            if (start < end) {
                dlq.seek(tp, start);
                open.add(tp);
            }
        }
        int read = 0;
        int replayed = 0;
        int skipped = 0;
        while (!open.isEmpty()) {
            for (ConsumerRecord<byte[], byte[]> r : dlq.poll(Duration.ofMillis(500))) {
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                long end = filter.to() == null ? ends.get(tp) : Math.min(filter.to(), ends.get(tp));
                if (!open.contains(tp) || r.offset() >= end) {
                    continue;
                }
                read++;
                if (send(r, filter, dryRun)) {
                    replayed++;
                } else {
                    skipped++;
                }
            }
            Set<TopicPartition> done = new HashSet<>();
            for (TopicPartition tp : open) {
                if (dlq.position(tp) >= (filter.to() == null ? ends.get(tp) : Math.min(filter.to(), ends.get(tp)))) {
                    done.add(tp);
                }
            }
            dlq.pause(done);
            open.removeAll(done);
        }
        producer.flush();
        out.printf("%s: %d dead letters read, %d %s, %d left alone%n", dryRun ? "dry run" : "replay", read, replayed,
                dryRun ? "would be replayed" : "replayed", skipped);
        return new Summary(read, replayed, skipped);
    }

    private boolean send(ConsumerRecord<byte[], byte[]> r, Filter filter, boolean dryRun) {
        String topic = DeadLetters.header(r.headers(), DeadLetters.H_TOPIC);
        String reason = DeadLetters.header(r.headers(), DeadLetters.H_REASON);
        String app = DeadLetters.header(r.headers(), DeadLetters.H_APP);
        String where = Topics.DLQ.name() + "@" + r.offset();
        if (topic == null || topic.isBlank() || "unknown".equals(topic) || r.value() == null) {
            out.printf("%s skip: no original topic or value (%s: %s)%n", where, app, reason);
            return false;
        }
        if (!filter.matches(topic, reason, app)) {
            return false;
        }
        Integer partition = partition(DeadLetters.header(r.headers(), DeadLetters.H_PARTITION));
        out.printf("%s %s to %s%s (%s: %s)%n", where, dryRun ? "would replay" : "replay", topic,
                partition == null ? "" : "-" + partition, app, reason);
        if (!dryRun) {
            RecordHeaders headers = new RecordHeaders();
            headers.add(H_REPLAYED_FROM, where.getBytes(StandardCharsets.UTF_8));
            producer.send(new ProducerRecord<>(topic, partition, r.key(), r.value(), headers));
        }
        return true;
    }

    private static Integer partition(String header) {
        try {
            int p = Integer.parseInt(header);
            return p >= 0 ? p : null;
        } catch (NumberFormatException | NullPointerException e) {
            return null;
        }
    }

    /** A command line: which dead letters, whether only to list them, and the broker (null = {@code AGORA_BOOTSTRAP}). */
    record Command(Filter filter, boolean dryRun, String bootstrap) {
    }

    /** Reads a command line; throws IllegalArgumentException with the usage on a bad one. */
    static Command parse(List<String> args) {
        Set<String> topics = new HashSet<>();
        String reason = null;
        String app = null;
        String bootstrap = null;
        boolean dryRun = false;
        long from = 0;
        Long to = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "--dry-run" -> dryRun = true;
                case "--topic" -> topics.add(value(args, ++i, a));
                case "--reason" -> reason = value(args, ++i, a);
                case "--app" -> app = value(args, ++i, a);
                case "--from" -> from = Long.parseLong(value(args, ++i, a));
                case "--to" -> to = Long.parseLong(value(args, ++i, a));
                case "--bootstrap" -> bootstrap = value(args, ++i, a);
                default -> throw new IllegalArgumentException("unknown argument " + a + "\n" + USAGE);
            }
        }
        return new Command(new Filter(Set.copyOf(topics), reason, app, from, to), dryRun, bootstrap);
    }

    private static String value(List<String> args, int i, String option) {
        if (i >= args.size()) {
            throw new IllegalArgumentException(option + " needs a value\n" + USAGE);
        }
        return args.get(i);
    }

    static final String USAGE = "usage: DlqReplay [--bootstrap host:port] [--topic original-topic]... "
            + "[--reason text] [--app app-id] [--from dlq-offset] [--to dlq-offset] [--dry-run]";

    public static void main(String[] args) {
        Command cmd;
        try {
            cmd = parse(List.of(args));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        String bootstrap = cmd.bootstrap() != null ? cmd.bootstrap() : AgoraConfig.load(Map.of()).bootstrapServers();
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "agora-dlq-replay");
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "agora-dlq-replay");
        try (Consumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
             Producer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            new DlqReplay(consumer, producer, System.out).replay(cmd.filter(), cmd.dryRun());
        }
    }
}
