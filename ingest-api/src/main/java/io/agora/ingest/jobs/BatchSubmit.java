package io.agora.ingest.jobs;

import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.Problem;
import io.agora.ingest.api.StrictJson;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpStatus;
import io.micronaut.json.JsonMapper;
import io.micronaut.json.tree.JsonNode;
import jakarta.inject.Singleton;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code POST /api/v1/jobs/batch}: up to {@link #MAX_JOBS} job requests in one JSON array (and in the
 * 1 MiB every JSON body keeps), each with an optional {@code idempotencyKey} of its own. Every job is
 * checked as a single submit checks it ({@link JobService#checked}); when any is invalid the answer is
 * one 400 listing each problem under its job's index ({@code [3].image}) and nothing is submitted.
 * Then the keys are claimed (a key naming another request: its 409, with the index, and nothing
 * produced) and every {@code JobRequested} is produced at once; the answer completes when the broker
 * has them all, with the job ids in the order of the request. The batch takes one rate-limit token
 * per job ({@link RateLimiter#admit(String, int)}): batching saves round trips, not the limit.
 */
@Singleton
public class BatchSubmit {
    public static final int MAX_JOBS = 500;
    /** The per-job key's field in a batch (a single submit has the {@code Idempotency-Key} header). */
    static final String KEY = "idempotencyKey";

    private final JobService jobs;
    private final RateLimiter rateLimiter;
    private final JsonMapper json;

    public BatchSubmit(JobService jobs, RateLimiter rateLimiter, JsonMapper json) {
        this.jobs = jobs;
        this.rateLimiter = rateLimiter;
        this.json = json;
    }

    /** One job of a batch, read; {@code job} is null when its JSON types were wrong (the problems say why). */
    record Item(int index, @Nullable SubmitJob job, @Nullable String idempotencyKey) {
    }

    /** Checks and submits the batch; the ids, in order, once the broker has every job. */
    public CompletableFuture<List<Submitted>> submit(String clientId, @Nullable JsonNode body) {
        List<Problem> problems = new ArrayList<>();
        List<Item> items = items(json, body, problems);
        rateLimiter.admit(clientId, items.size());
        List<JobService.Checked> checked = new ArrayList<>(items.size());
        for (Item item : items) {
            if (item.job() == null) {
                continue;
            }
            try {
                checked.add(jobs.checked(clientId, item.job(), item.idempotencyKey()));
            } catch (ApiException e) {
                if (e.status() != HttpStatus.BAD_REQUEST) {
                    throw of(item.index(), e);
                }
                problems.addAll(indexed(item.index(), e.problems()));
            }
        }
        if (!problems.isEmpty()) {
            throw ApiException.invalid(problems);
        }
        for (int i = 0; i < checked.size(); i++) { // every key before any job: a refused key submits nothing
            try {
                jobs.claim(clientId, checked.get(i));
            } catch (ApiException e) {
                throw of(i, e);
            }
        }
        List<CompletableFuture<Submitted>> sent = checked.stream().map(c -> jobs.produce(clientId, c)).toList();
        return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new))
                .thenApply(done -> sent.stream().map(CompletableFuture::join).toList());
    }

    /**
     * The batch's jobs. A body that is no array of 1 to {@link #MAX_JOBS} items is a 400 at once; each
     * item's wrong JSON types (and a key that is no string) are added to {@code problems} under its index.
     */
    static List<Item> items(JsonMapper json, @Nullable JsonNode body, List<Problem> problems) {
        if (body == null || body.isNull()) {
            throw new ApiException(HttpStatus.BAD_REQUEST, "request body is required: a JSON array of job requests");
        }
        if (!body.isArray() || body.size() == 0 || body.size() > MAX_JOBS) {
            throw ApiException.invalid(List.of(new Problem(null, !body.isArray()
                    ? "must be a JSON array of job requests"
                    : "must hold 1 to " + MAX_JOBS + " job requests, not " + body.size())));
        }
        List<Item> items = new ArrayList<>(body.size());
        int i = 0;
        for (JsonNode node : body.values()) {
            List<Problem> p = new ArrayList<>(StrictJson.problems(node, SubmitJob.class));
            JsonNode key = node.isObject() ? node.get(KEY) : null;
            if (key != null && !key.isNull() && !key.isString()) {
                p.add(new Problem(KEY, "must be a string"));
            }
            SubmitJob job = null;
            if (p.isEmpty()) {
                try {
                    job = json.readValueFromTree(node, SubmitJob.class);
                } catch (IOException e) {
                    p.add(new Problem(null, "malformed job request: " + e.getMessage()));
                }
            }
            problems.addAll(indexed(i, p));
            items.add(new Item(i, job, key == null || key.isNull() || !key.isString() ? null : key.getStringValue()));
            i++;
        }
        return items;
    }

    /** The problems of job {@code index}, each field under it: {@code [3].image}, {@code [3]} for the job itself. */
    static List<Problem> indexed(int index, List<Problem> problems) {
        String at = "[" + index + "]";
        return problems.stream().map(p -> new Problem(p.field() == null ? at
                : at + "." + ("Idempotency-Key".equals(p.field()) ? KEY : p.field()), p.message())).toList();
    }

    /** A single submit's refusal (402, 409, ...) as the batch's, naming the job. */
    static ApiException of(int index, ApiException e) {
        Map<String, Object> details = new LinkedHashMap<>(e.details() == null ? Map.of() : e.details());
        details.put("index", index);
        return new ApiException(e.status(), "job [" + index + "]: " + e.getMessage(), indexed(index, e.problems()),
                details, e.retryAfterSeconds());
    }
}
