package io.agora.artifacts;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/**
 * The artifact store a service is configured with ({@code AGORA_ARTIFACTS_URL}):
 * <ul>
 *   <li>a folder path or {@code file:/path}: {@link DiskArtifactStore} (the default, under the state dir);</li>
 *   <li>{@code s3://<bucket>/<prefix>?endpoint=<http(s) url>&region=<region>}: {@link S3ArtifactStore},
 *       keys from {@code AGORA_ARTIFACTS_S3_ACCESS_KEY} and {@code AGORA_ARTIFACTS_S3_SECRET_KEY}.</li>
 * </ul>
 */
public final class ArtifactStores {
    private ArtifactStores() {
    }

    /** The store {@code url} names; {@code stagingDir} holds S3 uploads while they are hashed. */
    public static ArtifactStore open(String url, String accessKey, String secretKey, Path stagingDir) throws IOException {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("no artifact store URL");
        }
        if (url.startsWith("s3://")) {
            URI u = URI.create(url);
            Map<String, String> q = query(u.getRawQuery());
            String endpoint = q.get("endpoint");
            if (u.getHost() == null || endpoint == null) {
                throw new IllegalArgumentException("an S3 artifact store URL is s3://<bucket>/<prefix>?endpoint=<url>&region=<region>: " + url);
            }
            if (accessKey == null || secretKey == null || accessKey.isBlank() || secretKey.isBlank()) {
                throw new IllegalArgumentException("an S3 artifact store needs AGORA_ARTIFACTS_S3_ACCESS_KEY and AGORA_ARTIFACTS_S3_SECRET_KEY");
            }
            String prefix = u.getPath() == null ? "" : u.getPath().replaceFirst("^/", "");
            if (!prefix.isEmpty() && !prefix.endsWith("/")) {
                prefix += "/";
            }
            return new S3ArtifactStore(URI.create(endpoint.endsWith("/") ? endpoint : endpoint + "/"), u.getHost(), prefix,
                    q.getOrDefault("region", "us-east-1"), accessKey, secretKey, stagingDir, Clock.systemUTC());
        }
        Path dir = url.startsWith("file:") ? Path.of(URI.create(url)) : Path.of(url);
        return new DiskArtifactStore(dir);
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> m = new HashMap<>();
        if (raw != null) {
            for (String kv : raw.split("&")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    m.put(kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return m;
    }
}
