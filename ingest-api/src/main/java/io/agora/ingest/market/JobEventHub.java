package io.agora.ingest.market;

import io.agora.events.JobEvent;
import jakarta.inject.Singleton;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fans the live agora.jobs.events tail out to the SSE streams of connected clients, and keeps the
 * latest events of the most recently active jobs: a stream opened just after an event went by,
 * before ledger-sink has written it to the read model, still gets it (see {@link JobEventStream}).
 */
@Singleton
public class JobEventHub {
    /** Jobs whose latest events are kept; the least recently active is dropped first. */
    static final int JOBS_KEPT = 4096;
    /** Events kept per job: a job's whole story is usually a dozen. */
    static final int EVENTS_PER_JOB = 32;

    private final Sinks.Many<JobEvent> sink = Sinks.many().multicast().directBestEffort();
    private final Map<String, Deque<JobEvent>> recent = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Deque<JobEvent>> eldest) {
            return size() > JOBS_KEPT;
        }
    };

    /** Keeps the event, then sends it live: a watcher that missed it live finds it in {@link #recent}. */
    public void publish(JobEvent e) {
        synchronized (recent) {
            Deque<JobEvent> events = recent.computeIfAbsent(e.getJobId(), id -> new ArrayDeque<>());
            events.addLast(e);
            if (events.size() > EVENTS_PER_JOB) {
                events.removeFirst();
            }
        }
        sink.tryEmitNext(e);
    }

    /** The job's live events, from the moment of subscription. */
    public Flux<JobEvent> of(String jobId) {
        return sink.asFlux().filter(e -> e.getJobId().equals(jobId));
    }

    /** The job's latest events already published, oldest first. */
    public List<JobEvent> recent(String jobId) {
        synchronized (recent) {
            Deque<JobEvent> events = recent.get(jobId);
            return events == null ? List.of() : List.copyOf(events);
        }
    }

    int liveSubscribers() {
        return sink.currentSubscriberCount();
    }
}
