package io.agora.ingest.market;

import io.agora.events.JobEvent;
import jakarta.inject.Singleton;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/** Fans the live agora.jobs.events tail out to the SSE streams of connected clients. */
@Singleton
public class JobEventHub {
    private final Sinks.Many<JobEvent> sink = Sinks.many().multicast().directBestEffort();

    public void publish(JobEvent e) {
        sink.tryEmitNext(e);
    }

    public Flux<JobEvent> of(String jobId) {
        return sink.asFlux().filter(e -> e.getJobId().equals(jobId));
    }
}
