package io.agora.ingest.web;

import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.agora.ingest.api.ApiError;
import io.agora.events.CommandType;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.ApiExceptionHandler;
import io.agora.ingest.api.PathIds;
import io.agora.ingest.api.Problem;
import io.agora.ingest.api.StrictJson;
import io.agora.schemas.Traces;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Scope;
import io.agora.ingest.auth.Caller;
import io.agora.ingest.jobs.JobService;
import io.agora.ingest.jobs.SubmitJob;
import io.agora.ingest.jobs.Submitted;
import io.agora.ingest.market.Executions;
import io.agora.ingest.market.JobCursor;
import io.agora.ingest.market.JobEventStream;
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
import io.micronaut.json.JsonMapper;
import io.micronaut.json.tree.JsonNode;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.serde.annotation.Serdeable;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.parameters.RequestBody;
import io.micronaut.context.annotation.Value;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

import java.time.Duration;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** A client's jobs: submit, status, live events, cancel, dispute, output, list. */
@ApiResponse(responseCode = "4XX", description = "refused: problem details naming each invalid field",
        content = @Content(mediaType = ApiError.MEDIA_TYPE, schema = @Schema(implementation = ApiError.class)))
@Controller("/api/v1/jobs")
@ExecuteOn(TaskExecutors.BLOCKING)
public class JobController {
    /** A dispute's reason travels in a JobCommand to the market; it is kept to a sentence or two. */
    static final int MAX_REASON = 500;
    private final Caller caller;
    private final JobService jobs;
    private final JobEventStream stream;
    private final ApiExceptionHandler errors;
    private final JsonMapper json;
    private final Duration keepAlive;

    public JobController(Caller caller, JobService jobs, JobEventStream stream, ApiExceptionHandler errors,
                         JsonMapper json, @Value("${agora.ingest.sse-keep-alive-ms:15000}") long keepAliveMs) {
        this.json = json;
        this.keepAlive = Duration.ofMillis(keepAliveMs);
        this.caller = caller;
        this.jobs = jobs;
        this.stream = stream;
        this.errors = errors;
    }

    /**
     * 202 once the broker has acknowledged {@code JobRequested}; the request thread is free while
     * the ack is awaited. A broker that does not answer in time gives the 503 of {@link ApiException}.
     * The body is read by {@link StrictJson}: a field of the wrong JSON type is a 400, not a coercion.
     */
    @Post
    public CompletableFuture<HttpResponse<?>> submit(HttpRequest<?> request,
                                                     @Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                                     @Header("Idempotency-Key") @Nullable String idempotencyKey,
                                                     @RequestBody(required = true, content = @Content(
                                                             schema = @Schema(implementation = SubmitJob.class)))
                                                     @Body @Nullable JsonNode body) {
        String clientId = caller.client(authorization);
        SubmitJob job = StrictJson.read(json, body, SubmitJob.class);
        // the job's trace starts here (or continues the caller's traceparent); JobRequested carries it
        Span span = Traces.start("POST /api/v1/jobs", SpanKind.SERVER,
                Traces.parent(request.getHeaders().get(Traces.HEADER)));
        CompletableFuture<Submitted> submitted;
        try (Scope ignored = span.makeCurrent()) {
            submitted = jobs.submit(clientId, job, idempotencyKey);
        } catch (RuntimeException e) {
            span.end();
            throw e;
        }
        return submitted.whenComplete((s, e) -> span.end())
                .<HttpResponse<?>>thenApply(s -> HttpResponse.<Submitted>status(HttpStatus.ACCEPTED).body(s)
                        .header(HttpHeaders.LOCATION, s.statusUrl()).header(Traces.HEADER, Traces.traceparent(span)))
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
        return jobs.job(caller.client(authorization), PathIds.check("id", id));
    }

    /**
     * The client's jobs, newest first. {@code nextCursor} (absent on the last page) given back as
     * {@code ?cursor=} continues after the page's last job, whatever was submitted meanwhile.
     */
    @Get
    public JobList list(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                        @QueryValue @Nullable String status,
                        @QueryValue(defaultValue = "50") int limit,
                        @QueryValue(defaultValue = "0") int offset,
                        @QueryValue @Nullable String cursor) {
        List<JobView> page = jobs.list(caller.client(authorization), status, limit, offset,
                cursor == null || cursor.isEmpty() ? null : JobCursor.parse(cursor));
        String next = page.isEmpty() || page.size() < Math.min(limit, 500) ? null
                : JobCursor.after(page.get(page.size() - 1)).token();
        return new JobList(page, limit, offset, next);
    }

    /** Each replica's attempts: worker, times, outcome and why a replica moved (from agora.job_events). */
    @Get("/{id}/executions")
    public ExecutionList executions(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                    @PathVariable String id) {
        return new ExecutionList(id, jobs.executions(caller.client(authorization), PathIds.check("id", id)));
    }

    @Get(value = "/{id}/output", produces = MediaType.TEXT_PLAIN)
    public HttpResponse<String> output(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                       @PathVariable String id) {
        JobView job = jobs.job(caller.client(authorization), PathIds.check("id", id));
        if (job.output() == null) {
            throw new ApiException(HttpStatus.NOT_FOUND, "job " + id + " has no consensus output (status "
                    + job.status() + ")");
        }
        return HttpResponse.ok(job.output()).contentType(MediaType.TEXT_PLAIN_TYPE);
    }

    @Delete("/{id}")
    public HttpResponse<Map<String, String>> cancel(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                                    @PathVariable String id) {
        jobs.command(caller.client(authorization), PathIds.check("id", id), CommandType.CANCEL, "cancelled by client");
        return HttpResponse.accepted().body(Map.of("jobId", id, "status", "cancel-requested"));
    }

    /** The body is optional; when sent it is read by {@link StrictJson} ({@code "reason": 5} is a 400). */
    @Post("/{id}/dispute")
    public HttpResponse<Map<String, String>> dispute(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                                     @PathVariable String id,
                                                     @RequestBody(content = @Content(schema = @Schema(implementation = Dispute.class)))
                                                     @Body @Nullable JsonNode body) {
        PathIds.check("id", id);
        String reason = body == null || body.isNull() ? null : StrictJson.read(json, body, Dispute.class).reason();
        if (reason != null && reason.length() > MAX_REASON) {
            throw ApiException.invalid(List.of(new Problem("reason", "must be at most " + MAX_REASON + " characters")));
        }
        jobs.command(caller.client(authorization), id, CommandType.DISPUTE, reason == null ? "disputed by client" : reason);
        return HttpResponse.accepted().body(Map.of("jobId", id, "status", "dispute-requested"));
    }

    /**
     * The job's current state ({@code status}), then its JobEvents ({@code job-event}, with the
     * event id); the stream ends after a terminal event (a disputed job's: after the dispute's decision).
     * {@link JobEventStream} says why none is lost.
     * {@code Last-Event-ID} (sent by a reconnecting EventSource) resumes after that event; a comment
     * every {@code agora.ingest.sse-keep-alive-ms} (15 s) keeps a quiet stream open.
     */
    @Get(value = "/{id}/events", produces = MediaType.TEXT_EVENT_STREAM)
    public Publisher<Event<?>> events(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                      @Header("Last-Event-ID") @Nullable String lastEventId,
                                      @PathVariable String id) {
        String clientId = caller.client(authorization);
        PathIds.check("id", id);
        Flux<Event<?>> events = stream.watch(id, () -> jobs.job(clientId, id),
                        lastEventId == null || lastEventId.isBlank() ? null : lastEventId, jobs::recordedEvents)
                .map(JobController::sse);
        // a comment now and then keeps proxies and idle timeouts from closing a quiet stream
        return events.publish(shared -> Flux.merge(shared, Flux.interval(keepAlive)
                .<Event<?>>map(n -> Event.of("").comment("keep-alive"))
                .takeUntilOther(shared.then())));
    }

    private static Event<?> sse(JobEventStream.Item item) {
        if (item instanceof JobEventStream.State s) {
            return Event.of(s.job()).name("status");
        }
        JobEventView e = JobEventView.of(((JobEventStream.Change) item).event());
        return Event.of(e).name("job-event").id(e.eventId());
    }

    @Serdeable
    public record JobList(List<JobView> jobs, int limit, int offset, @Nullable String nextCursor) {
    }

    @Serdeable
    public record Dispute(@Nullable @Schema(
            description = "why the client disputes the job's result", maxLength = MAX_REASON) String reason) {
    }

    @Serdeable
    public record ExecutionList(String jobId, List<Executions.Execution> executions) {
    }
}
