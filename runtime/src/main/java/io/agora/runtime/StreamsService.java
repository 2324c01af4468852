package io.agora.runtime;

import io.agora.schemas.AgoraConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Properties;

/**
 * Runs one Kafka Streams topology with exactly-once (v2) processing, the DLQ handler and
 * health reporting. Shared by matcher-streams and verifier-streams.
 */
public final class StreamsService implements Service {
    private static final Logger log = LoggerFactory.getLogger(StreamsService.class);
    private final KafkaStreams streams;
    private final String appId;

    public StreamsService(String appId, Topology topology, Properties props) {
        this.appId = appId;
        this.streams = new KafkaStreams(topology, props);
        this.streams.setUncaughtExceptionHandler(e -> {
            log.error("{} stream thread failed, replacing it", appId, e);
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
    }

    /**
     * How often a streams app commits ({@code AGORA_STREAMS_COMMIT_INTERVAL_MS}), in ms. A job's
     * path crosses four exactly-once commits, so a longer interval adds up to four times the
     * difference to its latency; a shorter one adds commits, each a flush and two round trips.
     */
    public static final String COMMIT_INTERVAL_MS = "agora.streams.commit.interval.ms";

    /** Exactly-once streams properties for an app of the market. */
    public static Properties properties(String appId, AgoraConfig cfg, String stateDir, Map<String, String> extra) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, cfg.bootstrapServers());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.toString(cfg.getLong(COMMIT_INTERVAL_MS, 100)));
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class.getName());
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, "-1");
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), "5");
        p.putAll(extra);
        return p;
    }

    public KafkaStreams streams() {
        return streams;
    }

    @Override
    public void start() {
        streams.start();
    }

    @Override
    public Map<String, Object> health() {
        KafkaStreams.State s = streams.state();
        boolean up = s == KafkaStreams.State.RUNNING || s == KafkaStreams.State.REBALANCING;
        return Map.of("status", up ? "UP" : "DOWN", "state", s.name(), "app", appId);
    }

    @Override
    public void close() {
        streams.close(java.time.Duration.ofSeconds(10));
    }
}
