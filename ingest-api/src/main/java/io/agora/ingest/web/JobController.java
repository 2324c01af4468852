package io.agora.ingest.web;

import io.agora.events.CommandType;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.ApiExceptionHandler;
import io.agora.ingest.auth.Caller;
import io.agora.ingest.jobs.JobService;
import io.agora.ingest.jobs.SubmitJob;
import io.agora.ingest.jobs.Submitted;
import io.agora.ingest.market.JobEventHub;
import io.agora.ingest.market.JobView;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.http.sse.Event;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.serde.annotation.Serdeable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** A client's jobs: submit, status, live events, cancel, dispute, output, list. */
@Controller("/api/v1/jobs")
@ExecuteOn(TaskExecutors.BLOCKING)
public class JobController {
    private final Caller caller;
    private final JobService jobs;
    private final JobEventHub hub;
    private final ApiExceptionHandler errors;

    public JobController(Caller caller, JobService jobs, JobEventHub hub, ApiExceptionHandler errors) {
        this.caller = caller;
        this.jobs = jobs;
        this.hub = hub;
        this.errors = errors;
    }

    /**
     * 202 once the broker has acknowledged {@code JobRequested}; the request thread is free while
     * the ack is awaited. A broker that does not answer in time gives the 503 of {@link ApiException}.
     */
    @Post
    public CompletableFuture<HttpResponse<?>> submit(HttpRequest<?> request,
                                                     @Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                                     @Header("Idempotency-Key") @Nullable String idempotencyKey,
                                                     @Body @Nullable SubmitJob job) {
        String clientId = caller.client(authorization);
        if (job == null) {
            throw new ApiException(HttpStatus.BAD_REQUEST, "request body is required: a JSON job");
        }
        return jobs.submit(clientId, job, idempotencyKey)
                .<HttpResponse<?>>thenApply(s -> HttpResponse.<Submitted>status(HttpStatus.ACCEPTED).body(s)
                        .header(HttpHeaders.LOCATION, s.statusUrl()))
                .exceptionally(e -> {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    if (cause instanceof ApiException api) {
                        return errors.handle(request, api);
                    }
                    throw e instanceof CompletionException c ? c : new CompletionException(e);
                });
    }

    @Get("/{id}")
    public JobView status(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization, @PathVariable String id) {
        return jobs.job(caller.client(authorization), id);
    }

    @Get
    public JobList list(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                        @QueryValue @Nullable String status,
                        @QueryValue(defaultValue = "50") int limit,
                        @QueryValue(defaultValue = "0") int offset) {
        return new JobList(jobs.list(caller.client(authorization), status, limit, offset), limit, offset);
    }

    @Get(value = "/{id}/output", produces = MediaType.TEXT_PLAIN)
    public HttpResponse<String> output(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                       @PathVariable String id) {
        JobView job = jobs.job(caller.client(authorization), id);
        if (job.output() == null) {
            throw new ApiException(HttpStatus.NOT_FOUND, "job " + id + " has no consensus output (status "
                    + job.status() + ")");
        }
        return HttpResponse.ok(job.output()).contentType(MediaType.TEXT_PLAIN_TYPE);
    }

    @Delete("/{id}")
    public HttpResponse<Map<String, String>> cancel(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                                    @PathVariable String id) {
        jobs.command(caller.client(authorization), id, CommandType.CANCEL, "cancelled by client");
        return HttpResponse.accepted().body(Map.of("jobId", id, "status", "cancel-requested"));
    }

    @Post("/{id}/dispute")
    public HttpResponse<Map<String, String>> dispute(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                                     @PathVariable String id,
                                                     @Body @Nullable Map<String, String> body) {
        String reason = body == null ? null : body.get("reason");
        jobs.command(caller.client(authorization), id, CommandType.DISPUTE, reason == null ? "disputed by client" : reason);
        return HttpResponse.accepted().body(Map.of("jobId", id, "status", "dispute-requested"));
    }

    /** The job's current state, then its live JobEvents; the stream ends after a terminal event. */
    @Get(value = "/{id}/events", produces = MediaType.TEXT_EVENT_STREAM)
    public Publisher<Event<?>> events(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                      @PathVariable String id) {
        JobView now = jobs.job(caller.client(authorization), id);
        Flux<Event<?>> snapshot = Flux.just(Event.of(now).name("status"));
        if (now.terminal()) {
            return snapshot;
        }
        Flux<Event<?>> live = hub.of(id)
                .map(JobEventView::of)
                .takeUntil(JobEventView::terminal)
                .map(e -> Event.of(e).name("job-event").id(e.eventId()));
        return Flux.concat(snapshot, live);
    }

    @Serdeable
    public record JobList(List<JobView> jobs, int limit, int offset) {
    }
}
