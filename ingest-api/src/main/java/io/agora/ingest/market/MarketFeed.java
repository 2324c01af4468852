package io.agora.ingest.market;

import io.agora.events.Heartbeat;
import io.agora.events.HostHeartbeat;
import io.agora.events.JobEvent;
import io.agora.events.ReputationChanged;
import io.agora.events.WorkerRegistration;
import io.agora.ingest.config.KafkaSettings;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.HostBeats;
import io.agora.schemas.Outage;
import io.agora.schemas.Topics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Background reader of the topics the API shows live. No consumer group: it assigns itself
 * every partition, reads agora.workers.registrations, .heartbeats, .host-beats (each beat of a host's record as
 * the identity's heartbeat) and .reputation from the beginning into {@link WorkerRegistry}, and tails agora.jobs.events from the end into
 * {@link JobEventHub}. A record that cannot be read during an outage is read again after a pause, never
 * skipped ({@link #read}); a record at fault is logged and skipped.
 * <p>
 * Until it has caught up (every topic assigned and a poll that found nothing new) the workers the
 * API shows may be incomplete and a job's events may be missed; {@code /metrics} says which with
 * {@code agora_ingest_market_feed_caught_up} (0 or 1).
 */
@Context
@Requires(property = "agora.ingest.feeds-enabled", notEquals = "false")
public class MarketFeed implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(MarketFeed.class);
    private static final List<String> FROM_START = List.of(Topics.REGISTRATIONS.name(), Topics.HEARTBEATS.name(),
            Topics.HOST_BEATS.name(), Topics.REPUTATION.name());
    private static final int TOPICS = FROM_START.size() + 1;
    private final Consumer<String, byte[]> consumer;
    private final WorkerRegistry registry;
    private final JobEventHub hub;
    private final Decoders decoders;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean caughtUp;
    /** Polls in a row that met an outage; only the feed thread touches it. */
    private int outagesInARow;
    /** The outage the feed last waited out ({@link Outage#of}), on /health while recent. */
    private volatile String lastOutage;
    private volatile long lastOutageAtMs;

    /** How the feed reads each of its topics' values. */
    record Decoders(Deserializer<WorkerRegistration> registrations, Deserializer<Heartbeat> heartbeats,
                    Deserializer<HostHeartbeat> hostBeats, Deserializer<ReputationChanged> reputation,
                    Deserializer<JobEvent> events) {
        static Decoders of(AgoraSerdes serdes) {
            return new Decoders(serdes.valueSerde(Topics.REGISTRATIONS).deserializer(),
                    serdes.valueSerde(Topics.HEARTBEATS).deserializer(), serdes.valueSerde(Topics.HOST_BEATS).deserializer(),
                    serdes.valueSerde(Topics.REPUTATION).deserializer(), serdes.valueSerde(Topics.JOB_EVENTS).deserializer());
        }
    }

    @Inject
    public MarketFeed(KafkaSettings kafka, WorkerRegistry registry, JobEventHub hub, MeterRegistry meters) {
        this(new KafkaConsumer<>(consumerProps(kafka), new StringDeserializer(), new ByteArrayDeserializer()),
                Decoders.of(AgoraSerdes.fromConfig(kafka)), registry, hub);
        Gauge.builder("agora.ingest.market.feed.caught.up", this, f -> f.caughtUp ? 1 : 0)
                .description("1 once the market feed has read the worker topics to their end and tails the job events")
                .register(meters);
        this.thread.start();
    }

    /** A feed on this consumer, its thread not started: {@link #read} drives it one poll at a time. */
    MarketFeed(Consumer<String, byte[]> consumer, Decoders decoders, WorkerRegistry registry, JobEventHub hub) {
        this.consumer = consumer;
        this.decoders = decoders;
        this.registry = registry;
        this.hub = hub;
        this.thread = new Thread(this, "agora-ingest-feed");
        this.thread.setDaemon(true);
    }

    /** The feed's consumer: assigned partitions, no group, no commits. */
    static Map<String, Object> consumerProps(KafkaSettings kafka) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
        p.putAll(kafka.kafkaClientProperties());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "agora-ingest-feed");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, kafka.fetchMaxWaitMs());
        return p;
    }

    @Override
    public void run() {
        try {
            Set<String> assignedTopics = new java.util.HashSet<>();
            long nextCheck = 0;
            while (running) {
                if (assignedTopics.size() < TOPICS && System.currentTimeMillis() >= nextCheck) {
                    assign(assignedTopics);
                    nextCheck = System.currentTimeMillis() + 5000;
                }
                if (assignedTopics.isEmpty()) {
                    Thread.sleep(500);
                    continue;
                }
                boolean empty = read();
                if (empty && assignedTopics.size() == TOPICS) {
                    caughtUp = true;
                }
                long pause = pauseMs();
                if (pause > 0) {
                    Thread.sleep(pause);
                }
            }
        } catch (WakeupException | org.apache.kafka.common.errors.InterruptException e) {
            // closing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("market feed stopped", e);
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private void assign(Set<String> assignedTopics) {
        List<TopicPartition> fromStart = new ArrayList<>();
        List<TopicPartition> fromEnd = new ArrayList<>();
        List<String> wanted = new ArrayList<>(FROM_START);
        wanted.add(Topics.JOB_EVENTS.name());
        for (String topic : wanted) {
            if (assignedTopics.contains(topic)) {
                continue;
            }
            List<PartitionInfo> parts;
            try {
                parts = consumer.partitionsFor(topic, Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.debug("no metadata for {} yet: {}", topic, e.toString());
                continue;
            }
            if (parts == null || parts.isEmpty()) {
                continue;
            }
            assignedTopics.add(topic);
            for (PartitionInfo pi : parts) {
                (FROM_START.contains(topic) ? fromStart : fromEnd).add(new TopicPartition(topic, pi.partition()));
            }
        }
        if (fromStart.isEmpty() && fromEnd.isEmpty()) {
            return;
        }
        List<TopicPartition> all = new ArrayList<>(consumer.assignment());
        all.addAll(fromStart);
        all.addAll(fromEnd);
        consumer.assign(all);
        // an empty collection means "every assigned partition" to seekToBeginning/seekToEnd
        if (!fromStart.isEmpty()) {
            consumer.seekToBeginning(fromStart);
        }
        if (!fromEnd.isEmpty()) {
            consumer.seekToEnd(fromEnd);
        }
        for (TopicPartition tp : fromEnd) {
            consumer.position(tp);
        }
        LOG.info("market feed reading {}", all.stream().map(TopicPartition::topic).distinct().toList());
    }

    /**
     * One poll: applies each record read. A record that cannot be read during an {@link Outage} (the schema
     * registry away) is not skipped: its partition is sought back to it, so it and the rest of its partition are
     * read again after the pause {@link #outagesInARow} sets. A record at fault is logged and skipped (the feed's
     * topics are written by the market's own services, whose consumers dead-letter it). Whether the poll was empty.
     */
    boolean read() {
        var records = consumer.poll(Duration.ofMillis(500));
        long now = System.currentTimeMillis();
        Set<TopicPartition> readAgain = new HashSet<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            if (readAgain.contains(tp)) {
                continue;
            }
            Optional<String> outage = handle(r, now);
            if (outage.isPresent()) {
                consumer.seek(tp, r.offset());
                readAgain.add(tp);
                lastOutage = outage.get();
                lastOutageAtMs = now;
                LOG.warn("cannot read {}-{}@{}, reading it again: {}", r.topic(), r.partition(), r.offset(), outage.get());
            }
        }
        outagesInARow = readAgain.isEmpty() ? 0 : outagesInARow + 1;
        return records.isEmpty();
    }

    /** How long to wait before the next poll: 0, or {@link Outage#pauseMs} while polls in a row meet an outage. */
    long pauseMs() {
        return outagesInARow == 0 ? 0 : Outage.pauseMs(outagesInARow - 1);
    }

    /** Applies the record; the outage that kept it from being read, if one did. */
    private Optional<String> handle(ConsumerRecord<String, byte[]> r, long now) {
        try {
            String t = r.topic();
            if (t.equals(Topics.REGISTRATIONS.name())) {
                if (r.value() != null) {
                    // the broker's append time: the proof-of-hardware window is checked against it, as the matcher does
                    registry.apply(decoders.registrations().deserialize(t, r.value()), r.timestamp());
                }
            } else if (t.equals(Topics.HEARTBEATS.name())) {
                registry.apply(decoders.heartbeats().deserialize(t, r.value()), now);
            } else if (t.equals(Topics.HOST_BEATS.name())) {
                HostHeartbeat hb = decoders.hostBeats().deserialize(t, r.value());
                hb.getBeats().forEach(b -> registry.apply(HostBeats.asHeartbeat(hb, b), now));
            } else if (t.equals(Topics.REPUTATION.name())) {
                registry.apply(decoders.reputation().deserialize(t, r.value()));
            } else if (t.equals(Topics.JOB_EVENTS.name())) {
                hub.publish(decoders.events().deserialize(t, r.value()));
            }
            return Optional.empty();
        } catch (RuntimeException e) {
            Optional<String> outage = Outage.of(e);
            if (outage.isEmpty()) {
                LOG.warn("skipping unreadable record {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
            }
            return outage;
        }
    }

    /** The outage the feed waits out, while its last failure is at most {@link Outage#RECENT_MS} old. */
    public Optional<String> outage(long nowMs) {
        String o = lastOutage;
        return o != null && nowMs - lastOutageAtMs <= Outage.RECENT_MS ? Optional.of(o) : Optional.empty();
    }

    /** Whether the feed thread still runs; {@link MarketFeedHealth} turns a dead one into DOWN. */
    public boolean alive() {
        return thread.isAlive();
    }

    public boolean caughtUp() {
        return caughtUp;
    }

    @PreDestroy
    public synchronized void close() throws InterruptedException {
        if (!running) {
            return;
        }
        running = false;
        consumer.wakeup();
        thread.interrupt(); // it may be pausing for an outage
        thread.join(5000);
    }
}
