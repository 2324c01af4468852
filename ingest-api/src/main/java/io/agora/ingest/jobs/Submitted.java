package io.agora.ingest.jobs;

import io.micronaut.serde.annotation.Serdeable;

/** The 202 answer to a submission. */
@Serdeable
public record Submitted(String jobId, String status, String statusUrl) {
}
