package io.agora.ingest.market;

import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The feed's read step on Kafka's in-memory consumer: a job event that cannot be read while the schema
 * registry is away is read again once it answers, never skipped; a record at fault is skipped. The
 * {@link Log} plays the broker: every poll is offered the partitions' records from the consumer's position.
 */
class MarketFeedOutageTest {
    static final String TOPIC = Topics.JOB_EVENTS.name();
    final TopicPartition p0 = new TopicPartition(TOPIC, 0);
    final TopicPartition p1 = new TopicPartition(TOPIC, 1);
    final MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
    final JobEventHub hub = new JobEventHub();
    boolean registryDown;
    /** Job ids whose record the registry cannot serve yet (a schema id it answers 404 for, within the grace). */
    final java.util.Set<String> notYetServed = new java.util.HashSet<>();
    final Deserializer<JobEvent> events = (topic, bytes) -> {
        String jobId = new String(bytes, StandardCharsets.UTF_8);
        if (jobId.equals("garbage")) {
            throw new SerializationException("not a registry record: first byte 0x67, not the magic byte 0x00");
        }
        if (registryDown || notYetServed.contains(jobId)) {
            throw new SerializationException("schema lookup failed", new ConnectException("Connection refused"));
        }
        return JobEvent.newBuilder().setEventId(jobId + "-e").setJobId(jobId).setClientId("c")
                .setType(JobEventType.COMPLETED).setTimestamp(Instant.EPOCH).build();
    };
    final MarketFeed feed = new MarketFeed(consumer, new MarketFeed.Decoders(null, null, null, null, events), null, hub);
    final Log log = new Log();

    MarketFeedOutageTest() {
        consumer.assign(List.of(p0, p1));
        consumer.updateBeginningOffsets(Map.of(p0, 0L, p1, 0L));
    }

    /** The broker's partitions: each poll is offered every record from the consumer's position on. */
    final class Log {
        final Map<TopicPartition, List<String>> records = new HashMap<>();

        void append(TopicPartition tp, String jobId) {
            records.computeIfAbsent(tp, k -> new ArrayList<>()).add(jobId);
        }

        boolean poll() {
            for (var e : records.entrySet()) {
                List<String> values = e.getValue();
                for (int offset = (int) consumer.position(e.getKey()); offset < values.size(); offset++) {
                    consumer.addRecord(new ConsumerRecord<>(TOPIC, e.getKey().partition(), offset, null,
                            values.get(offset).getBytes(StandardCharsets.UTF_8)));
                }
            }
            return feed.read();
        }
    }

    boolean seen(String jobId) {
        return !hub.recent(jobId).isEmpty();
    }

    @Test
    void an_event_unreadable_while_the_registry_is_away_is_read_again_in_order_once_it_answers() {
        log.append(p0, "job-1");
        log.append(p0, "job-2");
        log.append(p0, "job-3");
        log.poll();
        assertThat(seen("job-1")).isTrue();
        assertThat(feed.pauseMs()).isZero();

        log.append(p0, "job-4");
        log.append(p0, "job-5");
        registryDown = true;
        log.poll();
        assertThat(seen("job-4")).isFalse();
        assertThat(consumer.position(p0)).as("sought back to the unread record").isEqualTo(3);
        assertThat(feed.pauseMs()).isEqualTo(500);
        assertThat(feed.outage(System.currentTimeMillis())).hasValueSatisfying(o -> assertThat(o).contains("Connection refused"));
        log.poll();
        assertThat(feed.pauseMs()).as("the same outage: a longer pause").isEqualTo(1000);

        registryDown = false;
        log.poll();
        assertThat(seen("job-4")).isTrue();
        assertThat(seen("job-5")).isTrue();
        assertThat(consumer.position(p0)).isEqualTo(5);
        assertThat(feed.pauseMs()).isZero();
        assertThat(feed.outage(System.currentTimeMillis())).as("still recent: named on /health").isPresent();
        assertThat(feed.outage(System.currentTimeMillis() + io.agora.schemas.Outage.RECENT_MS + 1_000)).isEmpty();
    }

    @Test
    void a_record_at_fault_is_skipped_and_the_records_after_it_are_read() {
        log.append(p0, "garbage");
        log.append(p0, "job-6");
        log.append(p1, "job-7");
        log.poll();
        assertThat(seen("job-6")).isTrue();
        assertThat(seen("job-7")).isTrue();
        assertThat(consumer.position(p0)).isEqualTo(2);
        assertThat(feed.pauseMs()).isZero();
        assertThat(feed.outage(System.currentTimeMillis())).isEmpty();
    }

    @Test
    void an_outage_on_one_partition_does_not_hold_back_another() {
        log.append(p0, "job-8");
        log.append(p0, "job-9");
        log.append(p1, "job-10");
        notYetServed.add("job-8");
        log.poll();
        assertThat(seen("job-10")).isTrue();
        assertThat(seen("job-9")).as("behind job-8 in its partition: waits with it").isFalse();
        assertThat(consumer.position(p0)).isZero();
        notYetServed.clear();
        log.poll();
        assertThat(seen("job-8")).isTrue();
        assertThat(seen("job-9")).isTrue();
    }
}
