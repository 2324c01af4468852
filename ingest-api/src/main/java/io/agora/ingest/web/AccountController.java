package io.agora.ingest.web;

import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Content;
import io.agora.ingest.api.ApiError;
import io.agora.ingest.accounts.AccountService;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.PathIds;
import io.agora.ingest.auth.Caller;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

/** A client's balance and statement (its own only), and a worker's credits, stake and earnings (public). */
@ApiResponse(responseCode = "4XX", description = "refused: problem details naming each invalid field",
        content = @Content(mediaType = ApiError.MEDIA_TYPE, schema = @Schema(implementation = ApiError.class)))
@Controller("/api/v1")
@ExecuteOn(TaskExecutors.BLOCKING)
public class AccountController {
    private final Caller caller;
    private final AccountService accounts;

    public AccountController(Caller caller, AccountService accounts) {
        this.caller = caller;
        this.accounts = accounts;
    }

    @Get("/accounts/{id}")
    public AccountService.Balance balance(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                          @PathVariable String id) {
        return accounts.balance(own(authorization, id));
    }

    @Get("/accounts/{id}/transactions")
    public AccountService.Statement transactions(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                                 @PathVariable String id,
                                                 @QueryValue(defaultValue = "50") int limit,
                                                 @QueryValue(defaultValue = "0") int offset) {
        return accounts.transactions(own(authorization, id), limit, offset);
    }

    @Get("/workers/{id}/earnings")
    public AccountService.Earnings earnings(@PathVariable String id) {
        return accounts.earnings(PathIds.check("id", id));
    }

    /** {@code me} or the caller's own client id; 403 for anyone else's account. */
    private String own(String authorization, String id) {
        String clientId = caller.client(authorization);
        PathIds.check("id", id);
        if (id.equals("me") || id.equals(clientId) || id.equals("client:" + clientId)) {
            return clientId;
        }
        throw new ApiException(HttpStatus.FORBIDDEN, "account " + id + " belongs to another client");
    }
}
