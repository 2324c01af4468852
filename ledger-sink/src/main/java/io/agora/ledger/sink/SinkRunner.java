package io.agora.ledger.sink;

import io.agora.ledger.EventDecoder;
import io.agora.schemas.AgoraSerdes;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;

import javax.sql.DataSource;

/**
 * Starts the {@link LedgerSink} on its own thread when the application starts and stops it on
 * shutdown. Disabled with {@code agora.sink.enabled=false} (tests of the HTTP side).
 */
@Context
@Requires(property = "agora.sink.enabled", notEquals = "false")
public class SinkRunner {
    private final SinkConfig cfg;
    private final DataSource dataSource;
    private final SinkHealth health;
    private final SinkMeters meters;
    private LedgerSink sink;
    private Thread thread;

    public SinkRunner(SinkConfig cfg, DataSource dataSource, SinkHealth health, MeterRegistry registry) {
        this.cfg = cfg;
        this.dataSource = dataSource;
        this.health = health;
        this.meters = new SinkMeters(registry);
        // what /health says, as a number an alert can watch, named as the plain apps name it
        Gauge.builder("agora.service.up", health, h -> h.state().up() ? 1 : 0)
                .description("1 while /health answers UP").register(registry);
    }

    @PostConstruct
    void start() {
        sink = LedgerSink.create(cfg, dataSource, new EventDecoder(AgoraSerdes.fromConfig(cfg)), health, null, meters);
        thread = new Thread(sink, "ledger-sink");
        health.watch(thread);
        thread.start();
    }

    @PreDestroy
    void stop() throws InterruptedException {
        if (sink != null) {
            sink.close();
            thread.join(30_000);
        }
    }
}
