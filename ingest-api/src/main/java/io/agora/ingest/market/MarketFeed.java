package io.agora.ingest.market;

import io.agora.events.Heartbeat;
import io.agora.events.JobEvent;
import io.agora.events.ReputationChanged;
import io.agora.events.WorkerRegistration;
import io.agora.ingest.config.KafkaSettings;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Topics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PreDestroy;
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
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Background reader of the topics the API shows live. No consumer group: it assigns itself
 * every partition, reads agora.workers.registrations, .heartbeats and .reputation from the
 * beginning into {@link WorkerRegistry}, and tails agora.jobs.events from the end into
 * {@link JobEventHub}. A record that does not decode is logged and skipped.
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
            Topics.REPUTATION.name());
    private static final int TOPICS = FROM_START.size() + 1;
    private final KafkaConsumer<String, byte[]> consumer;
    private final WorkerRegistry registry;
    private final JobEventHub hub;
    private final Deserializer<WorkerRegistration> registrations;
    private final Deserializer<Heartbeat> heartbeats;
    private final Deserializer<ReputationChanged> reputation;
    private final Deserializer<JobEvent> events;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean caughtUp;

    public MarketFeed(KafkaSettings kafka, WorkerRegistry registry, JobEventHub hub, MeterRegistry meters) {
        this.registry = registry;
        this.hub = hub;
        AgoraSerdes serdes = AgoraSerdes.fromConfig(kafka);
        this.registrations = serdes.valueSerde(Topics.REGISTRATIONS).deserializer();
        this.heartbeats = serdes.valueSerde(Topics.HEARTBEATS).deserializer();
        this.reputation = serdes.valueSerde(Topics.REPUTATION).deserializer();
        this.events = serdes.valueSerde(Topics.JOB_EVENTS).deserializer();
        this.consumer = new KafkaConsumer<>(consumerProps(kafka), new StringDeserializer(), new ByteArrayDeserializer());
        Gauge.builder("agora.ingest.market.feed.caught.up", this, f -> f.caughtUp ? 1 : 0)
                .description("1 once the market feed has read the worker topics to their end and tails the job events")
                .register(meters);
        this.thread = new Thread(this, "agora-ingest-feed");
        this.thread.setDaemon(true);
        this.thread.start();
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
                var records = consumer.poll(Duration.ofMillis(500));
                long now = System.currentTimeMillis();
                for (ConsumerRecord<String, byte[]> r : records) {
                    handle(r, now);
                }
                if (records.isEmpty() && assignedTopics.size() == TOPICS) {
                    caughtUp = true;
                }
            }
        } catch (WakeupException e) {
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

    private void handle(ConsumerRecord<String, byte[]> r, long now) {
        try {
            String t = r.topic();
            if (t.equals(Topics.REGISTRATIONS.name())) {
                if (r.value() != null) {
                    // the broker's append time: the proof-of-hardware window is checked against it, as the matcher does
                    registry.apply(registrations.deserialize(t, r.value()), r.timestamp());
                }
            } else if (t.equals(Topics.HEARTBEATS.name())) {
                registry.apply(heartbeats.deserialize(t, r.value()), now);
            } else if (t.equals(Topics.REPUTATION.name())) {
                registry.apply(reputation.deserialize(t, r.value()));
            } else if (t.equals(Topics.JOB_EVENTS.name())) {
                hub.publish(events.deserialize(t, r.value()));
            }
        } catch (RuntimeException e) {
            LOG.warn("skipping unreadable record {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
        }
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
        thread.join(5000);
    }
}
