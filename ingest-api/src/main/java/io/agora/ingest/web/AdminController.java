package io.agora.ingest.web;

import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Content;
import io.agora.ingest.api.ApiError;
import io.agora.events.LedgerEntry;
import io.agora.ingest.accounts.AccountService;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.PathIds;
import io.agora.ingest.api.Problem;
import io.agora.ingest.api.StrictJson;
import io.agora.ingest.auth.ApiKeys;
import io.agora.ingest.auth.Caller;
import io.agora.ingest.jobs.IdempotencyKeys;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.json.JsonMapper;
import io.micronaut.json.tree.JsonNode;
import io.micronaut.serde.annotation.Serdeable;
import io.swagger.v3.oas.annotations.parameters.RequestBody;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.Validator;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.Size;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** Operator endpoints (admin token): API keys and deposits. */
@ApiResponse(responseCode = "4XX", description = "refused: problem details naming each invalid field",
        content = @Content(mediaType = ApiError.MEDIA_TYPE, schema = @Schema(implementation = ApiError.class)))
@Controller("/api/v1/admin")
@ExecuteOn(TaskExecutors.BLOCKING)
public class AdminController {
    private final Caller caller;
    private final ApiKeys keys;
    private final AccountService accounts;
    private final JsonMapper json;
    private final Validator validator;

    public AdminController(Caller caller, ApiKeys keys, AccountService accounts, JsonMapper json, Validator validator) {
        this.json = json;
        this.validator = validator;
        this.caller = caller;
        this.keys = keys;
        this.accounts = accounts;
    }

    /** The only answer that ever shows the key in clear. */
    @Post("/clients/{clientId}/keys")
    public HttpResponse<ApiKeys.IssuedKey> issue(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                                 @PathVariable String clientId) {
        caller.admin(authorization);
        PathIds.check("clientId", clientId);
        if (!clientId.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new ApiException(HttpStatus.BAD_REQUEST, "clientId must be 1-64 letters, digits, '.', '_' or '-'");
        }
        return HttpResponse.created(keys.issue(clientId));
    }

    @Delete("/keys/{keyId}")
    public HttpResponse<Map<String, String>> revoke(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                                    @PathVariable String keyId) {
        caller.admin(authorization);
        if (!keys.revoke(PathIds.check("keyId", keyId))) {
            throw ApiException.notFound("key " + keyId);
        }
        return HttpResponse.ok(Map.of("keyId", keyId, "status", "revoked"));
    }

    /** The body is read by {@link StrictJson} ({@code "amountMicros": "5"} is a 400), then bean-validated. */
    @Post("/clients/{clientId}/deposits")
    public HttpResponse<DepositReceipt> deposit(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                                @PathVariable String clientId,
                                                @Header("Idempotency-Key") @Nullable String idempotencyKey,
                                                @RequestBody(required = true, content = @Content(
                                                        schema = @Schema(implementation = Deposit.class)))
                                                @Body @Nullable JsonNode body) {
        caller.admin(authorization);
        PathIds.check("clientId", clientId);
        Deposit deposit = StrictJson.read(json, body, Deposit.class);
        Set<ConstraintViolation<Deposit>> violations = validator.validate(deposit);
        if (!violations.isEmpty()) {
            throw new ConstraintViolationException(violations);
        }
        if (idempotencyKey != null && (idempotencyKey.isBlank() || idempotencyKey.length() > IdempotencyKeys.MAX_KEY)) {
            throw ApiException.invalid(List.of(new Problem("Idempotency-Key", "must be 1 to " + IdempotencyKeys.MAX_KEY + " characters")));
        }
        // the key names the deposit, so a retried request is the same ledger transaction (booked once)
        String depositId = idempotencyKey == null ? UUID.randomUUID().toString() : idempotencyKey;
        LedgerEntry e = accounts.deposit(clientId, depositId, deposit.amountMicros(), deposit.memo());
        return HttpResponse.<DepositReceipt>status(HttpStatus.ACCEPTED)
                .body(new DepositReceipt(clientId, e.getTransactionId(), deposit.amountMicros()));
    }

    @Serdeable
    public record Deposit(@NotNull @Positive @Max(1_000_000_000_000_000L) Long amountMicros,
                          @Nullable @Size(max = 200) String memo) {
    }

    @Serdeable
    public record DepositReceipt(String clientId, String transactionId, long amountMicros) {
    }
}
