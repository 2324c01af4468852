package io.agora.ingest.files;

import io.micronaut.context.annotation.ConfigurationProperties;

/**
 * Where files go and how many a client may keep (prefix {@code agora.artifacts}).
 *
 * @param url              the artifact store ({@code AGORA_ARTIFACTS_URL}: a folder, or {@code s3://bucket/prefix?endpoint=...})
 * @param s3AccessKey      S3 access key ({@code AGORA_ARTIFACTS_S3_ACCESS_KEY})
 * @param s3SecretKey      S3 secret key ({@code AGORA_ARTIFACTS_S3_SECRET_KEY})
 * @param maxFileBytes     the largest file one upload may carry ({@code AGORA_ARTIFACTS_MAX_FILE_BYTES})
 * @param clientQuotaBytes the bytes of distinct files one client may keep ({@code AGORA_ARTIFACTS_CLIENT_QUOTA_BYTES})
 * @param retentionHours   how long a file is kept after its last use ({@code AGORA_ARTIFACTS_RETENTION_HOURS};
 *                         0 = forever; see {@link FileService#sweep})
 */
@ConfigurationProperties("agora.artifacts")
public record ArtifactSettings(String url, String s3AccessKey, String s3SecretKey, long maxFileBytes,
                               long clientQuotaBytes, long retentionHours) {
}
