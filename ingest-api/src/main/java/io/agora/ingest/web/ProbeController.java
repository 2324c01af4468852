package io.agora.ingest.web;

import io.agora.ingest.api.ApiError;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.Problem;
import io.agora.ingest.jobs.TokenBucket;
import io.agora.market.BandwidthAttestation;
import io.agora.market.PohChallenge;
import io.agora.schemas.AgoraConfig;
import io.agora.schemas.ChallengeKey;
import io.agora.schemas.WorkerRequests;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.http.server.types.files.StreamedFile;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * The workers' bandwidth probe: {@code GET /api/v1/probe?bytes=N} answers N bytes of noise, which a
 * worker times at start to register its download bandwidth (from the market it fetches inputs from).
 * Signed as a worker's input download is ({@code AgoraWorker}, for this path), but the worker need not
 * be registered yet: it measures before its first registration. What it may cost the API is bounded
 * whoever asks: at most {@link #MAX_BYTES} per probe, and all probes together at most
 * {@code agora.ingest.probe-mib-per-second} MiB/s (64; {@link TokenBucket}, two seconds of burst), past
 * which the answer is 429 with {@code Retry-After}.
 *
 * <p>With the market's challenge key ({@link ChallengeKey}) the API also times the probe itself
 * ({@link BandwidthAttestation}): a probe of at least {@link BandwidthAttestation#MIN_BYTES} carries a
 * ticket (header {@value BandwidthAttestation#TICKET_HEADER}) and ends with the ticket's receipt; the
 * worker sends both back, signed, to {@code GET /api/v1/probe/attestation?ticket=&receipt=&workers=} and
 * gets the market-signed figure it registers with ({@code workers}: the other identities its host runs,
 * optional). Without a key there is no ticket and the attestation answers 503.
 */
@ApiResponse(responseCode = "4XX", description = "refused: problem details naming each invalid field",
        content = @Content(mediaType = ApiError.MEDIA_TYPE, schema = @Schema(implementation = ApiError.class)))
@Controller("/api/v1/probe")
@ExecuteOn(TaskExecutors.BLOCKING)
public class ProbeController {
    /** The largest probe: a few seconds of a slow link, a fraction of a second of a fast one. */
    public static final long MAX_BYTES = 64L << 20;
    private static final int MIB = 1 << 20;
    /** Noise, not zeros: a compressing proxy on the way would flatter the link. */
    private static final byte[] NOISE = new byte[MIB];

    static {
        new java.util.Random(20_261_207).nextBytes(NOISE);
    }

    private final TokenBucket budget;
    private final LongSupplier clockMs;
    /** The market's challenge key; null when none is configured (no ticket, no attestation). */
    private final byte[] key;

    /** {@code keyFile}: {@value ChallengeKey#FILE_CONFIG} ({@code AGORA_MARKET_CHALLENGE_KEY_FILE}), read as the matcher reads it. */
    @jakarta.inject.Inject
    public ProbeController(@Value("${agora.ingest.probe-mib-per-second:64}") double mibPerSecond,
                           @Value("${" + ChallengeKey.FILE_CONFIG + ":}") String keyFile) {
        this(mibPerSecond, System::nanoTime, System::currentTimeMillis, ChallengeKey.find(AgoraConfig.of(
                Map.of(ChallengeKey.FILE_CONFIG, keyFile == null ? "" : keyFile))).orElse(null));
    }

    ProbeController(double mibPerSecond, LongSupplier nanoClock, LongSupplier clockMs, @Nullable byte[] key) {
        this.budget = new TokenBucket(mibPerSecond, (int) Math.max(1, Math.ceil(2 * mibPerSecond)), nanoClock);
        this.clockMs = clockMs;
        this.key = key == null ? null : key.clone();
    }

    @Get(produces = MediaType.APPLICATION_OCTET_STREAM)
    public HttpResponse<StreamedFile> probe(HttpRequest<?> request,
                                            @Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                            @QueryValue @Nullable String bytes) {
        return answer(authorization, request.getPath(), bytes);
    }

    /**
     * The market-signed rate of the probe whose {@code ticket} the caller sends back with its {@code receipt}
     * (hex of the probe's last bytes), from the probe's start to now: {@code attestation} (what the worker
     * registers as {@code networkAttestation}), {@code mbps}, {@code issuedAt}, {@code validForMs}.
     */
    @Get(value = "/attestation", produces = MediaType.APPLICATION_JSON)
    public Map<String, Object> attestation(HttpRequest<?> request,
                                           @Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                                           @QueryValue @Nullable String ticket, @QueryValue @Nullable String receipt,
                                           @QueryValue @Nullable String workers) {
        return attest(authorization, request.getPath(), ticket, receipt, workers);
    }

    Map<String, Object> attest(@Nullable String authorization, String path, @Nullable String ticket,
                               @Nullable String receipt, @Nullable String workers) {
        long now = clockMs.getAsLong();
        String workerId = caller(authorization, path, now);
        if (key == null) {
            throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "no market challenge key is configured: bandwidth"
                    + " is not attested (set AGORA_MARKET_CHALLENGE_KEY_FILE, the matcher's)");
        }
        List<Problem> problems = new ArrayList<>();
        BandwidthAttestation.Ticket t = BandwidthAttestation.parseTicket(key, ticket);
        if (t == null) {
            problems.add(new Problem("ticket", "required: the " + BandwidthAttestation.TICKET_HEADER
                    + " header of a probe this market answered"));
        } else if (!t.workerId().equals(workerId)) {
            problems.add(new Problem("ticket", "the probe was asked by another worker"));
        } else if (now - t.startedAt() > BandwidthAttestation.TICKET_MS || t.startedAt() > now) {
            problems.add(new Problem("ticket", "expired: a ticket is turned in within "
                    + BandwidthAttestation.TICKET_MS + " ms of its probe"));
        } else if (!BandwidthAttestation.receiptMatches(key, ticket, receipt)) {
            problems.add(new Problem("receipt", "required: hex of the probe's last " + BandwidthAttestation.RECEIPT_BYTES
                    + " bytes (the whole probe must have been received)"));
        }
        Set<String> ids = new TreeSet<>();
        ids.add(workerId);
        if (workers != null && !workers.isBlank()) {
            List<String> more = Arrays.stream(workers.split(",")).map(String::strip).toList();
            ChallengeController.checkIds(more, problems);
            ids.addAll(more);
            if (ids.size() > PohChallenge.MAX_WORKERS) {
                problems.add(new Problem("workers", "at most " + PohChallenge.MAX_WORKERS + " worker ids, not " + ids.size()));
            }
        }
        if (!problems.isEmpty()) {
            throw ApiException.invalid(problems);
        }
        int mbps = BandwidthAttestation.mbps(t.bytes(), t.startedAt(), now);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("attestation", BandwidthAttestation.issue(key, ids, mbps, now));
        out.put("mbps", mbps);
        out.put("issuedAt", now);
        out.put("validForMs", BandwidthAttestation.VALID_MS);
        return out;
    }

    /** The worker that signed this request for {@code path}; else 401. */
    private String caller(@Nullable String authorization, String path, long now) {
        if (!WorkerRequests.isWorker(authorization)) {
            throw new ApiException(HttpStatus.UNAUTHORIZED, "a worker's signed request is required (Authorization: "
                    + WorkerRequests.SCHEME + " ...)");
        }
        try {
            return WorkerRequests.verify(authorization, "GET", path, now);
        } catch (IllegalArgumentException e) {
            throw new ApiException(HttpStatus.UNAUTHORIZED, "worker authorization refused: " + e.getMessage());
        }
    }

    MutableHttpResponse<StreamedFile> answer(@Nullable String authorization, String path, @Nullable String bytes) {
        long now = clockMs.getAsLong();
        String workerId = caller(authorization, path, now);
        long n = size(bytes);
        long waitNanos = budget.tryTake((int) ((n + MIB - 1) / MIB));
        if (waitNanos > 0) {
            long seconds = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
            throw new ApiException(HttpStatus.TOO_MANY_REQUESTS, "bandwidth probes are busy: try again later",
                    List.of(), Map.of("retryAfterSeconds", seconds), seconds);
        }
        if (key == null || n < BandwidthAttestation.MIN_BYTES) {
            return HttpResponse.ok(new StreamedFile(noise(n), MediaType.APPLICATION_OCTET_STREAM_TYPE, 0, n));
        }
        String ticket = BandwidthAttestation.ticket(key, workerId, n, now);
        InputStream body = new SequenceInputStream(noise(n - BandwidthAttestation.RECEIPT_BYTES),
                new ByteArrayInputStream(BandwidthAttestation.receipt(key, ticket)));
        return HttpResponse.ok(new StreamedFile(body, MediaType.APPLICATION_OCTET_STREAM_TYPE, 0, n))
                .header(BandwidthAttestation.TICKET_HEADER, ticket);
    }

    /** The probe's size from {@code ?bytes=}: 1 to {@link #MAX_BYTES}; else a 400 naming the field. */
    static long size(@Nullable String bytes) {
        long n;
        try {
            n = bytes == null ? -1 : Long.parseLong(bytes.strip());
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1 || n > MAX_BYTES) {
            throw ApiException.invalid(List.of(new Problem("bytes",
                    "required: an integer from 1 to " + MAX_BYTES + " (the probe's size in bytes)")));
        }
        return n;
    }

    /** {@code n} bytes of the noise block repeated. */
    static InputStream noise(long n) {
        return new InputStream() {
            private long left = n;

            @Override
            public int read() {
                if (left <= 0) {
                    return -1;
                }
                return NOISE[(int) ((n - left--) % MIB)] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) {
                    return -1;
                }
                int at = (int) ((n - left) % MIB);
                int k = (int) Math.min(Math.min(len, left), MIB - at);
                System.arraycopy(NOISE, at, b, off, k);
                left -= k;
                return k;
            }
        };
    }
}
