package io.agora.ingest.jobs;

import io.agora.events.CommandType;
import io.agora.events.JobCommand;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobRequested;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.Problem;
import io.agora.ingest.files.FileService;
import io.agora.ingest.market.JobView;
import io.agora.ingest.market.MarketProducer;
import io.agora.ingest.market.PendingJobs;
import io.agora.ingest.market.ReadModel;
import io.agora.market.Accounts;
import io.agora.market.MarketRules;
import io.agora.market.Pricing;
import io.agora.schemas.Topics;
import io.micronaut.http.HttpStatus;
import jakarta.inject.Singleton;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.Arrays;
import io.agora.ingest.market.Executions;
import io.agora.ingest.market.JobCursor;
import io.micronaut.core.annotation.Nullable;
import java.util.concurrent.CompletableFuture;

/**
 * Step 1 of a job's flow (Submit) and the client's later commands on it. Produces JobRequested
 * to agora.jobs.requests (key clientId) and JobCommand CANCEL/DISPUTE to agora.jobs.commands
 * (key jobId); reads job status from the read model.
 */
@Singleton
public class JobService {
    private final RateLimiter rateLimiter;
    private final ReadModel readModel;
    private final MarketProducer producer;
    private final PendingJobs pending;
    private final IdempotencyKeys idempotencyKeys;
    private final long starterGrantMicros;
    private final MarketRules rules;
    private final FileService files;
    private final ImageDigests images;
    private final Clock clock = Clock.systemUTC();

    public JobService(RateLimiter rateLimiter, ReadModel readModel, MarketProducer producer, PendingJobs pending,
                      IdempotencyKeys idempotencyKeys, MarketRules rules, FileService files, ImageDigests images) {
        this.files = files;
        this.images = images;
        this.idempotencyKeys = idempotencyKeys;
        this.rateLimiter = rateLimiter;
        this.readModel = readModel;
        this.producer = producer;
        this.pending = pending;
        this.starterGrantMicros = rules.starterGrantMicros();
        this.rules = rules;
    }

    /**
     * The same client and Idempotency-Key always give the same job id; the matcher drops repeats, and
     * {@link IdempotencyKeys} refuses the key with another request.
     */
    public static String jobId(String clientId, String idempotencyKey) {
        if (idempotencyKey == null || idempotencyKey.isBlank()) {
            return UUID.randomUUID().toString();
        }
        return UUID.nameUUIDFromBytes((clientId + ":" + idempotencyKey).getBytes(StandardCharsets.UTF_8)).toString();
    }

    /**
     * Checks the request (400, 402 and 429 are thrown at once) and produces {@code JobRequested};
     * the answer completes when the broker has the event, or fails with a 503 {@link ApiException}.
     */
    public CompletableFuture<Submitted> submit(String clientId, SubmitJob request, String idempotencyKey) {
        rateLimiter.admit(clientId);
        Checked checked = checked(clientId, request, idempotencyKey);
        claim(clientId, checked);
        return produce(clientId, checked);
    }

    /** A request that passed every check of {@link #submit}: its event, and its key (null: none). */
    public record Checked(JobRequested event, @Nullable String idempotencyKey) {
    }

    /**
     * The checks of {@link #submit} without its rate-limit token and without claiming the key: 400 listing
     * each problem, 402 when the client cannot pay the job's maximum cost.
     */
    public Checked checked(String clientId, SubmitJob request, @Nullable String idempotencyKey) {
        SubmitJob job = JobRequestRules.withPoolFaults(request, rules.bftFaults(JobRequestRules.pool(request)));
        List<Problem> problems = JobRequestRules.problems(job, pool -> rules.allowlist(pool) != null, rules::bftFaults);
        if (idempotencyKey != null && idempotencyKey.length() > IdempotencyKeys.MAX_KEY) {
            problems = new java.util.ArrayList<>(problems);
            problems.add(new Problem("Idempotency-Key", "must be at most " + IdempotencyKeys.MAX_KEY + " characters"));
        }
        Map<String, Long> inputSizes = new java.util.HashMap<>();
        if (problems.isEmpty() && job.inputs() != null) {
            problems = new java.util.ArrayList<>(problems);
            for (int i = 0; i < job.inputs().size(); i++) {
                String sha = job.inputs().get(i).sha256();
                var file = files.owned(FileService.clientOwner(clientId), sha);
                if (file.isEmpty()) {
                    problems.add(new Problem("inputs[" + i + "].sha256", "no file " + sha
                            + " uploaded by you (POST /api/v1/files)"));
                } else {
                    inputSizes.put(sha, file.get().size());
                }
            }
        }
        ImageDigests.Pinned image = problems.isEmpty() ? images.pin(job.image()) : null;
        if (image != null && image.problem() != null) {
            problems = new java.util.ArrayList<>(problems);
            problems.add(image.problem());
        }
        if (!problems.isEmpty()) {
            throw ApiException.invalid(problems);
        }
        files.touch(FileService.clientOwner(clientId), inputSizes.keySet());
        String jobId = jobId(clientId, idempotencyKey);
        JobRequested event = JobRequestRules.toEvent(job, jobId, clientId, idempotencyKey,
                UUID.randomUUID().toString(), clock.instant());
        event.getSpec().setImage(image.image());
        event.getSpec().getInputs().forEach(in -> in.setSize(inputSizes.getOrDefault(in.getSha256(), 0L)));
        long needed;
        try {
            needed = Pricing.maxCost(event.getSpec(), Pricing.Rates.ceilings(event.getRequirements()),
                    event.getMaxTotalResults());
        } catch (ArithmeticException e) {
            throw ApiException.invalid(List.of(new Problem("maxPricePerCpuSecondMicros", "maximum cost overflows")));
        }
        long available = available(clientId);
        if (needed > available) {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("neededMicros", needed);
            details.put("availableMicros", available);
            throw new ApiException(HttpStatus.PAYMENT_REQUIRED,
                    "insufficient credits: the job may cost up to " + needed + " micro-credits, " + available
                            + " available", List.of(), details, null);
        }
        return new Checked(event, idempotencyKey);
    }

    /** Claims the checked request's key, if it has one: 409 when the key named another request. */
    public void claim(String clientId, Checked checked) {
        if (checked.idempotencyKey() != null && !checked.idempotencyKey().isBlank()) {
            idempotencyKeys.claim(clientId, checked.idempotencyKey(), checked.event());
        }
    }

    /** Produces the checked request's {@code JobRequested}; the answer completes when the broker has it. */
    public CompletableFuture<Submitted> produce(String clientId, Checked checked) {
        JobRequested event = checked.event();
        String jobId = event.getJobId();
        return producer.sendAsync(Topics.JOB_REQUESTS, clientId, event).thenApply(acked -> {
            pending.remember(jobId, clientId, event.getRequirements().getPool(), event.getSubmittedAt());
            return new Submitted(jobId, "submitted", "/api/v1/jobs/" + jobId);
        });
    }

    /** The client's spendable balance; a client the ledger has never seen will get the starter grant. */
    public long available(String clientId) {
        return readModel.balance(Accounts.client(clientId)).orElse(starterGrantMicros);
    }

    /**
     * The job if it belongs to the client. Someone else's job answers the same 404 as an unknown one,
     * so that a client cannot learn which job ids exist.
     */
    public JobView job(String clientId, String jobId) {
        var row = readModel.job(jobId);
        if (row.isPresent()) {
            if (!row.get().clientId().equals(clientId)) {
                throw ApiException.notFound("job " + jobId);
            }
            return row.get();
        }
        var p = pending.get(jobId).filter(j -> j.clientId().equals(clientId))
                .orElseThrow(() -> ApiException.notFound("job " + jobId));
        return JobView.submitted(jobId, clientId, p.pool(), p.submittedAt());
    }

    public List<JobView> list(String clientId, String status, int limit, int offset, @Nullable JobCursor after) {
        return readModel.jobs(clientId, status, Math.max(1, Math.min(limit, 500)), Math.max(0, offset), after);
    }

    /** The client's own job's executions (each replica, attempt and worker), from its recorded events. */
    public List<Executions.Execution> executions(String clientId, String jobId) {
        job(clientId, jobId);
        return Executions.of(readModel.jobEvents(jobId));
    }

    /** The job's events as the read model recorded them, oldest first: what a resumed event stream replays. */
    public List<JobEvent> recordedEvents(JobView job) {
        return readModel.jobEvents(job.jobId()).stream()
                .filter(e -> Arrays.stream(JobEventType.values()).anyMatch(t -> t.name().equals(e.type())))
                .map(e -> JobEvent.newBuilder().setEventId(e.eventId()).setJobId(job.jobId()).setClientId(job.clientId())
                        .setType(JobEventType.valueOf(e.type())).setReason(e.reason()).setWorkerId(e.workerId())
                        .setReplica(e.replica()).setAttempt(e.attempt()).setPool(job.pool()).setTimestamp(e.at())
                        .build())
                .toList();
    }

    /** Idempotent: cancelling twice, or a finished job, just sends a command the market ignores. */
    public void command(String clientId, String jobId, CommandType type, String reason) {
        rateLimiter.admit(clientId);
        JobView job = job(clientId, jobId);
        if (type == CommandType.DISPUTE) {
            long available = available(clientId);
            long fee = rules.disputeFeeMicros();
            if (available < fee) { // quick answer; the matcher's admission holds the fee against the balance it keeps
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("neededMicros", fee);
                details.put("availableMicros", available);
                throw new ApiException(HttpStatus.PAYMENT_REQUIRED, "insufficient credits: a dispute's fee is "
                        + fee + " micro-credits, " + available + " available", List.of(), details, null);
            }
        }
        JobCommand cmd = JobCommand.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setJobId(jobId)
                .setClientId(clientId)
                .setPool(job.pool() == null ? "public" : job.pool())
                .setType(type)
                .setReason(reason)
                .setTimestamp(Instant.now(clock))
                .build();
        producer.send(Topics.JOB_COMMANDS, jobId, cmd);
    }
}
