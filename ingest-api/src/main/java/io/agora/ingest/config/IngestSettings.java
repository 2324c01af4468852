package io.agora.ingest.config;

import io.micronaut.context.annotation.ConfigurationProperties;

/**
 * The API's own knobs (prefix {@code agora.ingest}).
 *
 * @param adminToken             bearer token of the admin endpoints ({@code AGORA_ADMIN_TOKEN})
 * @param rateLimitPerSecond     sustained submissions per client per second
 * @param rateLimitBurst         bucket size: submissions a client may make at once
 * @param pendingJobs            how many just-submitted jobs this instance remembers until the sink has them
 * @param feedsEnabled           whether to tail the worker and job-event topics (off in some tests)
 * @param workerOfflineAfterMs   a worker without a heartbeat for this long counts as offline
 * @param produceTimeoutMs       how long a request waits for the broker's ack
 */
@ConfigurationProperties("agora.ingest")
public record IngestSettings(String adminToken,
                             double rateLimitPerSecond,
                             int rateLimitBurst,
                             int pendingJobs,
                             boolean feedsEnabled,
                             long workerOfflineAfterMs,
                             long produceTimeoutMs) {
}
