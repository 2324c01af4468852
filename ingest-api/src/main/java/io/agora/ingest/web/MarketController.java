package io.agora.ingest.web;

import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.agora.ingest.api.ApiError;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.PathIds;
import io.agora.ingest.api.Problem;
import io.agora.ingest.api.StrictJson;
import io.agora.ingest.auth.Caller;
import io.agora.ingest.jobs.RateLimiter;
import io.agora.ingest.jobs.JobRequestRules;
import io.agora.ingest.jobs.SubmitJob;
import io.agora.ingest.accounts.AccountService;
import io.agora.ingest.market.MarketView;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.json.JsonMapper;
import io.micronaut.json.tree.JsonNode;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.parameters.RequestBody;

import java.util.List;

/** The public face of the market: workers, pool health, and (for a client) which workers a job would get. */
@ApiResponse(responseCode = "4XX", description = "refused: problem details naming each invalid field",
        content = @Content(mediaType = ApiError.MEDIA_TYPE, schema = @Schema(implementation = ApiError.class)))
@Controller("/api/v1")
@ExecuteOn(TaskExecutors.BLOCKING)
public class MarketController {
    private final MarketView market;
    private final Caller caller;
    private final RateLimiter rateLimiter;
    private final JsonMapper json;
    private final AccountService accounts;

    public MarketController(MarketView market, Caller caller, RateLimiter rateLimiter, JsonMapper json,
                            AccountService accounts) {
        this.json = json;
        this.accounts = accounts;
        this.market = market;
        this.caller = caller;
        this.rateLimiter = rateLimiter;
    }

    @Get("/workers")
    public List<MarketView.WorkerView> workers(@QueryValue @Nullable String pool, @QueryValue @Nullable String region,
                                               @QueryValue @Nullable String status) {
        return market.workers(pool, region, status);
    }

    /** A registered worker as the registry has it, with its free credits and bonded stake from the ledger. */
    @Get("/workers/{id}")
    public MarketView.WorkerView worker(@PathVariable String id) {
        AccountService.Worker money = accounts.worker(PathIds.check("id", id));
        return market.worker(id).withAccounts(money.balanceMicros(), money.stakeMicros());
    }

    @Get("/pools")
    public List<MarketView.PoolView> pools() {
        return market.pools();
    }

    @Get("/stats")
    public MarketView.MarketStats stats() {
        return market.stats();
    }

    @Get("/pools/{pool}")
    public MarketView.PoolView pool(@PathVariable String pool) {
        return market.pool(PathIds.check("pool", pool));
    }

    /**
     * Same body as a submission (image and command may be left out); {@code ?topK=} candidates. Needs
     * the client's API key and takes a token from its rate limit, like a submission: a preview ranks
     * the whole pool, so an anonymous or unthrottled caller could keep the API busy.
     */
    @Post("/match")
    public MarketView.MatchPreview match(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                         @RequestBody(required = true, content = @Content(
                                                 schema = @Schema(implementation = SubmitJob.class)))
                                         @Body @Nullable JsonNode body, @QueryValue(defaultValue = "5") int topK) {
        rateLimiter.admit(caller.client(authorization));
        SubmitJob job = StrictJson.read(json, body, SubmitJob.class);
        SubmitJob j = new SubmitJob(job.image() == null ? "preview" : job.image(),
                job.command() == null || job.command().isEmpty() ? List.of("true") : job.command(), job.env(),
                job.timeoutMs(), job.memoryMb(), job.cpus(), job.pidsLimit(), job.network(), job.outputFiles(),
                job.redundancy(), job.quorum(), job.strategy(), job.maxTotalResults(), job.maxAttempts(), job.priority(),
                job.queueTimeoutMs(), job.deadlineMs(), job.maxPricePerCpuSecondMicros(), job.requirements(), job.gpus(),
                job.inputs(), job.verification());
        List<Problem> problems = JobRequestRules.problems(j);
        if (topK < 1 || topK > 100) {
            problems = new java.util.ArrayList<>(problems);
            problems.add(new Problem("topK", "must be between 1 and 100"));
        }
        if (!problems.isEmpty()) {
            throw ApiException.invalid(problems);
        }
        return market.match(JobRequestRules.spec(j), JobRequestRules.requirements(j), topK);
    }
}
