package io.agora.ingest.market;

import io.agora.events.JobEvent;
import jakarta.inject.Singleton;
import reactor.core.Disposable;
import reactor.core.publisher.ConnectableFlux;
import reactor.core.publisher.Flux;

import java.util.List;
import java.util.function.Supplier;

/**
 * What a client watching one job is sent: the job's state now, then its events until a terminal
 * one. The state comes from the read model and the events from the agora.jobs.events tail
 * ({@link JobEventHub}); the two are not in step, so the order matters: the live events are
 * subscribed to and buffered <em>before</em> the state is read, and the events the hub still holds
 * from just before are replayed. A terminal event arriving while the state is read, or shortly
 * before while the read model lags, is therefore sent, and the stream ends. An event both replayed
 * and received live is sent once (by event id). Events the state already reflects may be sent
 * after it: a watcher sees them as the story so far.
 */
@Singleton
public class JobEventStream {
    /**
     * Live events buffered for one watcher while its state is read: far more than a job makes in
     * that time, and a bound on what a watcher can hold.
     */
    static final int LIVE_BUFFER = 256;
    private final JobEventHub hub;

    public JobEventStream(JobEventHub hub) {
        this.hub = hub;
    }

    /** One message of the stream: the job's state, or one of its events. */
    public sealed interface Item permits State, Change {
    }

    public record State(JobView job) implements Item {
    }

    public record Change(JobEvent event) implements Item {
    }

    /**
     * Reads the state with {@code state} (on the caller's thread; what it throws, such as a 403 or
     * 404, is thrown here) after the live subscription is open.
     */
    public Flux<Item> watch(String jobId, Supplier<JobView> state) {
        ConnectableFlux<JobEvent> live = hub.of(jobId).replay(LIVE_BUFFER);
        Disposable subscription = live.connect();
        JobView now;
        List<JobEvent> before;
        try {
            before = hub.recent(jobId);
            now = state.get();
        } catch (RuntimeException e) {
            subscription.dispose();
            throw e;
        }
        Flux<Item> first = Flux.just(new State(now));
        if (now.terminal()) {
            subscription.dispose();
            return first;
        }
        Flux<Item> events = Flux.concat(Flux.fromIterable(before), live)
                .distinct(JobEvent::getEventId)
                .takeUntil(e -> JobView.isTerminal(e.getType().name()))
                .<Item>map(Change::new)
                .doFinally(signal -> subscription.dispose());
        return Flux.concat(first, events);
    }
}
