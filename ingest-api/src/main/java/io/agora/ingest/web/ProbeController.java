package io.agora.ingest.web;

import io.agora.ingest.api.ApiError;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.Problem;
import io.agora.ingest.jobs.TokenBucket;
import io.agora.schemas.WorkerRequests;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
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

import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The workers' bandwidth probe: {@code GET /api/v1/probe?bytes=N} answers N bytes of noise, which a
 * worker times at start to register its download bandwidth (from the market it fetches inputs from).
 * Signed as a worker's input download is ({@code AgoraWorker}, for this path), but the worker need not
 * be registered yet: it measures before its first registration. What it may cost the API is bounded
 * whoever asks: at most {@link #MAX_BYTES} per probe, and all probes together at most
 * {@code agora.ingest.probe-mib-per-second} MiB/s (64; {@link TokenBucket}, two seconds of burst), past
 * which the answer is 429 with {@code Retry-After}.
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

    @jakarta.inject.Inject
    public ProbeController(@Value("${agora.ingest.probe-mib-per-second:64}") double mibPerSecond) {
        this(mibPerSecond, System::nanoTime, System::currentTimeMillis);
    }

    ProbeController(double mibPerSecond, LongSupplier nanoClock, LongSupplier clockMs) {
        this.budget = new TokenBucket(mibPerSecond, (int) Math.max(1, Math.ceil(2 * mibPerSecond)), nanoClock);
        this.clockMs = clockMs;
    }

    @Get(produces = MediaType.APPLICATION_OCTET_STREAM)
    public StreamedFile probe(HttpRequest<?> request, @Header(HttpHeaders.AUTHORIZATION) @Nullable String authorization,
                              @QueryValue @Nullable String bytes) {
        return answer(authorization, request.getPath(), bytes);
    }

    StreamedFile answer(@Nullable String authorization, String path, @Nullable String bytes) {
        if (!WorkerRequests.isWorker(authorization)) {
            throw new ApiException(HttpStatus.UNAUTHORIZED, "a worker's signed request is required (Authorization: "
                    + WorkerRequests.SCHEME + " ...)");
        }
        try {
            WorkerRequests.verify(authorization, "GET", path, clockMs.getAsLong());
        } catch (IllegalArgumentException e) {
            throw new ApiException(HttpStatus.UNAUTHORIZED, "worker authorization refused: " + e.getMessage());
        }
        long n = size(bytes);
        long waitNanos = budget.tryTake((int) ((n + MIB - 1) / MIB));
        if (waitNanos > 0) {
            long seconds = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
            throw new ApiException(HttpStatus.TOO_MANY_REQUESTS, "bandwidth probes are busy: try again later",
                    List.of(), Map.of("retryAfterSeconds", seconds), seconds);
        }
        return new StreamedFile(noise(n), MediaType.APPLICATION_OCTET_STREAM_TYPE, 0, n);
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
