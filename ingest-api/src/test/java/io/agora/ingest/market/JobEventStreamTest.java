package io.agora.ingest.market;

import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.ingest.api.ApiException;
import io.micronaut.http.HttpStatus;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The job's event stream merges a state read from the read model with the live event tail. Here
 * the state source is a function the test controls, so each interleaving of "state read" and
 * "event published" is played exactly, without a broker or a database. Nothing is republished:
 * an event published once either reaches the stream or the test fails.
 */
class JobEventStreamTest {
    static final Duration ENOUGH = Duration.ofSeconds(2);
    final JobEventHub hub = new JobEventHub();
    final JobEventStream stream = new JobEventStream(hub);
    final String job = "job-" + UUID.randomUUID();

    static JobEvent event(String jobId, JobEventType type) {
        return JobEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(jobId).setClientId("c")
                .setType(type).setTimestamp(Instant.now()).build();
    }

    static JobView state(String jobId, String status) {
        return new JobView(jobId, "c", "public", status, null, null, null, null, null, null, null, null, List.of(),
                List.of(), null, null, null, null, List.of());
    }

    /** What the stream sent, as "status X" or the event type; fails if the stream does not end. */
    static List<String> sent(reactor.core.publisher.Flux<JobEventStream.Item> items) {
        return items.map(JobEventStreamTest::describe).collectList().block(ENOUGH);
    }

    static String describe(JobEventStream.Item item) {
        return item instanceof JobEventStream.State s ? "status " + s.job().status()
                : ((JobEventStream.Change) item).event().getType().name();
    }

    @Test
    void a_terminal_event_published_while_the_state_is_read_ends_the_stream() {
        // the race of the old endpoint: the read model still says ASSIGNED, the job ends meanwhile
        var items = stream.watch(job, () -> {
            hub.publish(event(job, JobEventType.REPLICA_FINISHED));
            hub.publish(event(job, JobEventType.COMPLETED));
            return state(job, "ASSIGNED");
        });
        assertThat(sent(items)).containsExactly("status ASSIGNED", "REPLICA_FINISHED", "COMPLETED");
    }

    @Test
    void a_terminal_event_that_went_by_before_the_watch_is_sent_while_the_read_model_lags() {
        hub.publish(event(job, JobEventType.ACCEPTED));
        hub.publish(event(job, JobEventType.CANCELLED));
        assertThat(sent(stream.watch(job, () -> state(job, "submitted"))))
                .containsExactly("status submitted", "ACCEPTED", "CANCELLED");
    }

    @Test
    void live_events_follow_the_state_until_a_terminal_one_and_other_jobs_are_left_out() {
        List<String> got = new CopyOnWriteArrayList<>();
        AtomicBoolean ended = new AtomicBoolean();
        stream.watch(job, () -> state(job, "ACCEPTED")).map(JobEventStreamTest::describe)
                .doOnComplete(() -> ended.set(true)).subscribe(got::add);
        assertThat(got).containsExactly("status ACCEPTED");
        hub.publish(event(job, JobEventType.ASSIGNED));
        hub.publish(event("another-job", JobEventType.FAILED));
        hub.publish(event(job, JobEventType.NO_CONSENSUS));
        hub.publish(event(job, JobEventType.REPLICA_FINISHED));
        await().atMost(ENOUGH).untilTrue(ended);
        assertThat(got).containsExactly("status ACCEPTED", "ASSIGNED", "NO_CONSENSUS");
        assertThat(hub.liveSubscribers()).as("the live subscription is released at the end").isZero();
    }

    @Test
    void an_event_both_held_and_received_live_is_sent_once() {
        JobEvent assigned = event(job, JobEventType.ASSIGNED);
        hub.publish(assigned);
        var items = stream.watch(job, () -> {
            hub.publish(assigned); // delivered again, e.g. read twice by the feed
            hub.publish(event(job, JobEventType.EXPIRED));
            return state(job, "ACCEPTED");
        });
        assertThat(sent(items)).containsExactly("status ACCEPTED", "ASSIGNED", "EXPIRED");
    }

    @Test
    void a_terminal_state_is_all_that_is_sent() {
        hub.publish(event(job, JobEventType.COMPLETED));
        assertThat(sent(stream.watch(job, () -> state(job, "COMPLETED")))).containsExactly("status COMPLETED");
        assertThat(hub.liveSubscribers()).isZero();
    }

    static JobView disputed(String jobId, String dispute) {
        return new JobView(jobId, "c", "public", "COMPLETED", null, null, null, null, null, null, null, null, List.of(),
                List.of(), null, null, dispute, null, List.of());
    }

    static JobEvent disputedEvent(String jobId, String reason) {
        return JobEvent.newBuilder(event(jobId, JobEventType.DISPUTED)).setReason(reason).build();
    }

    @Test
    void a_completed_job_whose_dispute_is_open_streams_until_the_dispute_is_decided() {
        hub.publish(event(job, JobEventType.COMPLETED));
        hub.publish(disputedEvent(job, "opened: 2 dispute replicas from replica 2"));
        List<String> got = new CopyOnWriteArrayList<>();
        AtomicBoolean ended = new AtomicBoolean();
        stream.watch(job, () -> disputed(job, "opened")).map(JobEventStreamTest::describe)
                .doOnComplete(() -> ended.set(true)).subscribe(got::add);
        await().atMost(ENOUGH).until(() -> got.size() == 3);
        hub.publish(event(job, JobEventType.ASSIGNED));
        hub.publish(disputedEvent(job, "refused: already disputed")); // a second dispute: this one goes on
        hub.publish(disputedEvent(job, "overturned: dispute replicas agree on another output"));
        hub.publish(event(job, JobEventType.ASSIGNED));
        await().atMost(ENOUGH).untilTrue(ended);
        assertThat(got).containsExactly("status COMPLETED", "COMPLETED", "DISPUTED", "ASSIGNED", "DISPUTED", "DISPUTED");
        assertThat(hub.liveSubscribers()).isZero();
    }

    @Test
    void a_decided_dispute_leaves_the_job_over() {
        for (String decided : List.of("overturned", "upheld")) {
            assertThat(sent(stream.watch(job, () -> disputed(job, decided)))).containsExactly("status COMPLETED");
        }
        assertThat(JobView.decidesDispute("DISPUTED", "upheld")).isTrue();
        assertThat(JobView.decidesDispute("DISPUTED", "refused: insufficient credits")).isFalse();
        assertThat(JobView.decidesDispute("COMPLETED", "overturned")).isFalse();
        assertThat(hub.liveSubscribers()).isZero();
    }

    @Test
    void a_reconnecting_client_gets_what_came_after_its_last_event_id_once_then_the_live_events() {
        JobEvent assigned = event(job, JobEventType.ASSIGNED);
        JobEvent started = event(job, JobEventType.STARTED);
        JobEvent finished = event(job, JobEventType.REPLICA_FINISHED);
        hub.publish(finished);
        var items = stream.watch(job, () -> state(job, "STARTED"), assigned.getEventId(),
                now -> List.of(event(job, JobEventType.ACCEPTED), assigned, started));
        List<String> got = new CopyOnWriteArrayList<>();
        AtomicBoolean done = new AtomicBoolean();
        items.map(JobEventStreamTest::describe).doFinally(s -> done.set(true)).subscribe(got::add);
        await().atMost(ENOUGH).until(() -> got.size() == 3);
        hub.publish(event(job, JobEventType.COMPLETED));
        await().atMost(ENOUGH).untilTrue(done);
        assertThat(got).containsExactly("status STARTED", "STARTED", "REPLICA_FINISHED", "COMPLETED");
    }

    @Test
    void a_reconnect_after_the_end_replays_the_missed_terminal_event_and_ends() {
        JobEvent assigned = event(job, JobEventType.ASSIGNED);
        assertThat(sent(stream.watch(job, () -> state(job, "COMPLETED"), assigned.getEventId(),
                now -> List.of(assigned, event(job, JobEventType.COMPLETED)))))
                .containsExactly("status COMPLETED", "COMPLETED");
        assertThat(hub.liveSubscribers()).isZero();
    }

    @Test
    void an_unknown_last_event_id_replays_every_known_event() {
        JobEvent accepted = event(job, JobEventType.ACCEPTED);
        JobEvent done = event(job, JobEventType.CANCELLED);
        assertThat(JobEventStream.after("never-sent", List.of(accepted), List.of(accepted, done)))
                .containsExactly(accepted, done);
    }

    @Test
    void a_refused_state_read_is_thrown_and_releases_the_live_subscription() {
        assertThatThrownBy(() -> stream.watch(job, () -> {
            throw new ApiException(HttpStatus.FORBIDDEN, "job belongs to another client");
        })).isInstanceOf(ApiException.class).hasMessageContaining("another client");
        assertThat(hub.liveSubscribers()).isZero();
    }

    @Test
    void the_hub_keeps_only_the_latest_events_of_the_most_recently_active_jobs() {
        List<JobEvent> many = new ArrayList<>();
        for (int i = 0; i < JobEventHub.EVENTS_PER_JOB + 5; i++) {
            many.add(event(job, JobEventType.ASSIGNED));
        }
        many.forEach(hub::publish);
        assertThat(hub.recent(job)).containsExactlyElementsOf(many.subList(5, many.size()));
        for (int i = 0; i < JobEventHub.JOBS_KEPT; i++) {
            hub.publish(event("other-" + i, JobEventType.ACCEPTED));
        }
        assertThat(hub.recent(job)).isEmpty();
        assertThat(hub.recent("other-0")).hasSize(1);
    }
}
