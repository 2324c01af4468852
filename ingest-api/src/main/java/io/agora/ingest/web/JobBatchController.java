package io.agora.ingest.web;

import io.agora.ingest.api.ApiError;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.ApiExceptionHandler;
import io.agora.ingest.auth.Caller;
import io.agora.ingest.jobs.BatchSubmit;
import io.agora.ingest.jobs.SubmitJob;
import io.agora.ingest.jobs.Submitted;
import io.agora.schemas.Traces;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.Post;
import io.micronaut.json.tree.JsonNode;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.serde.annotation.Serdeable;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Scope;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.parameters.RequestBody;
import io.swagger.v3.oas.annotations.responses.ApiResponse;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** Many jobs in one request ({@link BatchSubmit}): one round trip, one 202 with every job id in order. */
@ApiResponse(responseCode = "4XX", description = "refused: problem details naming each invalid field under its job's index",
        content = @Content(mediaType = ApiError.MEDIA_TYPE, schema = @Schema(implementation = ApiError.class)))
@Controller("/api/v1/jobs/batch")
@ExecuteOn(TaskExecutors.BLOCKING)
public class JobBatchController {
    private final Caller caller;
    private final BatchSubmit batches;
    private final ApiExceptionHandler errors;

    public JobBatchController(Caller caller, BatchSubmit batches, ApiExceptionHandler errors) {
        this.caller = caller;
        this.batches = batches;
        this.errors = errors;
    }

    /**
     * 202 with {@code jobs} (each {@code jobId}, {@code status}, {@code statusUrl}, in the request's order)
     * once the broker has every job; a 400 lists each problem of each job and submits none.
     */
    @Post
    public CompletableFuture<HttpResponse<?>> submit(HttpRequest<?> request,
                                                     @Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                                     @RequestBody(required = true, content = @Content(array = @ArraySchema(
                                                             maxItems = BatchSubmit.MAX_JOBS,
                                                             schema = @Schema(implementation = SubmitJob.class))))
                                                     @Body @Nullable JsonNode body) {
        String clientId = caller.client(authorization);
        Span span = Traces.start("POST /api/v1/jobs/batch", SpanKind.SERVER,
                Traces.parent(request.getHeaders().get(Traces.HEADER)));
        CompletableFuture<List<Submitted>> submitted;
        try (Scope ignored = span.makeCurrent()) {
            submitted = batches.submit(clientId, body);
        } catch (RuntimeException e) {
            span.end();
            throw e;
        }
        return submitted.whenComplete((s, e) -> span.end())
                .<HttpResponse<?>>thenApply(s -> HttpResponse.status(HttpStatus.ACCEPTED).body(new Batch(s))
                        .header(Traces.HEADER, Traces.traceparent(span)))
                .exceptionally(e -> {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    if (cause instanceof ApiException api) {
                        return errors.handle(request, api);
                    }
                    throw e instanceof CompletionException c ? c : new CompletionException(e);
                });
    }

    /** The answer: each job as a single submit answers it, in the request's order. */
    @Serdeable
    public record Batch(List<Submitted> jobs) {
    }
}
