package io.agora.ingest.web;

import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Content;
import io.agora.ingest.api.ApiError;
import io.agora.events.Receipt;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.PathIds;
import io.agora.ingest.auth.Caller;
import io.agora.ingest.receipts.MarketPublicKey;
import io.agora.ingest.receipts.ReceiptStore;
import io.agora.schemas.Receipts;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

import java.util.Map;

/**
 * The market's receipts: a client's signed receipt for its own job, and the market's public key
 * that verifies it ({@code agora receipt <job> --verify}).
 */
@ApiResponse(responseCode = "4XX", description = "refused: problem details naming each invalid field",
        content = @Content(mediaType = ApiError.MEDIA_TYPE, schema = @Schema(implementation = ApiError.class)))
@Controller("/api/v1")
@ExecuteOn(TaskExecutors.BLOCKING)
public class ReceiptController {
    private final Caller caller;
    private final ReceiptStore receipts;
    private final MarketPublicKey marketKey;

    public ReceiptController(Caller caller, ReceiptStore receipts, MarketPublicKey marketKey) {
        this.caller = caller;
        this.receipts = receipts;
        this.marketKey = marketKey;
    }

    /**
     * The receipt as {@link Receipts#toMap} writes it; 404 for another client's job, as for an unknown one. Each receipt
     * answers 401 without a valid API key and 400 for a malformed job id ({@link PathIds}), as every job path does.
     */
    @Get("/jobs/{id}/receipt")
    public Map<String, Object> receipt(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                       @PathVariable String id) {
        String clientId = caller.client(authorization);
        Receipt r = receipts.receipt(PathIds.check("id", id), clientId)
                .orElseThrow(() -> new ApiException(HttpStatus.NOT_FOUND, "no receipt for job " + id
                        + ": not your job, or not decided yet"));
        return Receipts.toMap(r);
    }

    /**
     * The receipt of the job's decided dispute as {@link Receipts#toMap(io.agora.events.DisputeReceipt)} writes it;
     * 404 when there is none (not disputed, not decided yet) or the job is another client's.
     */
    @Get("/jobs/{id}/dispute-receipt")
    public Map<String, Object> disputeReceipt(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                              @PathVariable String id) {
        String clientId = caller.client(authorization);
        return Receipts.toMap(found(receipts.disputeReceipt(PathIds.check("id", id), clientId), "no dispute receipt for job " + id
                + ": not your job, not disputed, or the dispute is not decided yet"));
    }

    /**
     * The settlement receipt of the job's overturned dispute (what each slash took) as
     * {@link Receipts#toMap(io.agora.events.SettlementReceipt)} writes it; 404 when there is none (no overturned
     * dispute, its slashes not all booked yet) or the job is another client's.
     */
    @Get("/jobs/{id}/settlement-receipt")
    public Map<String, Object> settlementReceipt(@Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                                 @PathVariable String id) {
        String clientId = caller.client(authorization);
        return Receipts.toMap(found(receipts.settlementReceipt(PathIds.check("id", id), clientId), "no settlement receipt for job "
                + id + ": not your job, no dispute of it overturned, or its slashes are not all booked yet"));
    }

    /** The receipt, else 404 saying {@code why} (another client's job answers as an unknown one). */
    private static <R> R found(java.util.Optional<R> receipt, String why) {
        return receipt.orElseThrow(() -> new ApiException(HttpStatus.NOT_FOUND, why));
    }

    /** The market's public key (base64url Ed25519); 503 while none is configured. */
    @Get("/market/key")
    public Map<String, String> key() {
        return Map.of("algorithm", "Ed25519", "publicKey", marketKey.key()
                .orElseThrow(() -> new ApiException(HttpStatus.SERVICE_UNAVAILABLE,
                        "the market key is not configured: set AGORA_MARKET_PUBLIC_KEY or AGORA_MARKET_PUBLIC_KEY_FILE")));
    }
}
