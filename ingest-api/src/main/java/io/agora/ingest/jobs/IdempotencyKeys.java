package io.agora.ingest.jobs;

import io.agora.events.JobRequested;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.Problem;
import io.micronaut.data.exceptions.DataAccessException;
import io.micronaut.http.HttpStatus;
import jakarta.inject.Singleton;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An Idempotency-Key names one request of one client. The first submission with a key records the
 * SHA-256 of its canonical request; a later one with the same key and the same request is the same
 * job (the matcher drops the repeat), with another request it is refused with 409 listing the key.
 */
@Singleton
public class IdempotencyKeys {
    /** Characters of an {@code Idempotency-Key} header, on job submissions and on deposits. */
    public static final int MAX_KEY = 200;

    private final IdempotencyRepository repository;
    private final Clock clock = Clock.systemUTC();

    public IdempotencyKeys(IdempotencyRepository repository) {
        this.repository = repository;
    }

    /** Records the key's request, or checks it against the one recorded; 409 when they differ. */
    public void claim(String clientId, String idempotencyKey, JobRequested event) {
        String hash = fingerprint(event);
        String jobId = event.getJobId();
        IdempotencyRecord first = repository.findById(jobId).orElseGet(() -> {
            try {
                return repository.save(new IdempotencyRecord(jobId, clientId, idempotencyKey, hash, clock.instant()));
            } catch (DataAccessException e) {
                // the same key submitted concurrently: the other request was recorded first
                return repository.findById(jobId).orElseThrow(() -> e);
            }
        });
        if (!first.requestSha256().equals(hash)) {
            throw new ApiException(HttpStatus.CONFLICT, "Idempotency-Key " + idempotencyKey
                    + " was already used for a different request (job " + jobId + "): use a new key for a new job",
                    List.of(new Problem("Idempotency-Key", "already used with a different request body")),
                    Map.of("idempotencyKey", idempotencyKey, "jobId", jobId), null);
        }
    }

    /**
     * Hex SHA-256 of what the client asked for: the event without its event id and submission time,
     * with the environment in key order, so that the same request always gives the same hash.
     */
    public static String fingerprint(JobRequested event) {
        JobRequested canonical = JobRequested.newBuilder(event).setEventId("").setSubmittedAt(Instant.EPOCH).build();
        canonical.getSpec().setEnv(new TreeMap<>(event.getSpec().getEnv()));
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(canonical.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
