package io.agora.ingest.market;

import io.agora.events.JobEvent;
import jakarta.inject.Singleton;
import reactor.core.Disposable;
import reactor.core.publisher.ConnectableFlux;
import reactor.core.publisher.Flux;

import io.micronaut.core.annotation.Nullable;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What a client watching one job is sent: the job's state now, then its events until a terminal
 * one; for a terminal job whose dispute is open, until the event that decides the dispute
 * ({@link JobView#over}). The state comes from the read model and the events from the agora.jobs.events tail
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
        return watch(jobId, state, null, job -> List.of());
    }

    /**
     * As {@link #watch(String, Supplier)}, resumed after {@code lastEventId} (the SSE
     * {@code Last-Event-ID} of a reconnecting client): the events after it, from the read model
     * ({@code stored}) and the hub, are sent before the live ones, and none up to it is sent again.
     * An id neither knows (the sink is behind, or it was never sent) replays every event known:
     * an event twice is better than a lost terminal one.
     */
    public Flux<Item> watch(String jobId, Supplier<JobView> state, @Nullable String lastEventId,
                            Function<JobView, List<JobEvent>> stored) {
        ConnectableFlux<JobEvent> live = hub.of(jobId).replay(LIVE_BUFFER);
        Disposable subscription = live.connect();
        JobView now;
        List<JobEvent> before;
        try {
            before = hub.recent(jobId);
            now = state.get();
            if (lastEventId != null) {
                before = after(lastEventId, stored.apply(now), before);
            }
        } catch (RuntimeException e) {
            subscription.dispose();
            throw e;
        }
        Flux<Item> first = Flux.just(new State(now));
        Set<String> seen = lastEventId == null ? Set.of() : Set.of(lastEventId);
        if (now.over()) {
            subscription.dispose();
            return lastEventId == null ? first
                    : Flux.concat(first, Flux.fromIterable(before).map(Change::new));
        }
        List<JobEvent> replay = before;
        Flux<Item> events = Flux.concat(Flux.fromIterable(replay), live)
                .filter(e -> !seen.contains(e.getEventId()))
                .distinct(JobEvent::getEventId)
                .takeUntil(now.terminal() ? e -> JobView.decidesDispute(e.getType().name(), e.getReason())
                        : e -> JobView.isTerminal(e.getType().name()))
                .<Item>map(Change::new)
                .doFinally(signal -> subscription.dispose());
        return Flux.concat(first, events);
    }

    /** The events after {@code lastEventId} among the stored then the hub's (each once, in that order). */
    static List<JobEvent> after(String lastEventId, List<JobEvent> stored, List<JobEvent> recent) {
        Map<String, JobEvent> all = new LinkedHashMap<>();
        stored.forEach(e -> all.putIfAbsent(e.getEventId(), e));
        recent.forEach(e -> all.putIfAbsent(e.getEventId(), e));
        List<JobEvent> ordered = new ArrayList<>(all.values());
        for (int i = 0; i < ordered.size(); i++) {
            if (ordered.get(i).getEventId().equals(lastEventId)) {
                return List.copyOf(ordered.subList(i + 1, ordered.size()));
            }
        }
        return ordered;
    }
}
