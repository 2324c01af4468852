package io.agora.ingest.jobs;

import io.agora.ingest.api.Problem;
import io.agora.schemas.ImageRef;
import jakarta.inject.Singleton;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * Pins a job's image at submit: an image in a registry ({@link ImageRef#hasRegistry()}) is looked up
 * with the registry's v2 API ({@code HEAD /v2/<name>/manifests/<tag or digest>}, accepting the OCI
 * and Docker v2 manifests and indexes) and the job records {@code name@<Docker-Content-Digest>}, so
 * every replica runs the same bytes and workers pull by digest. An image the registry does not
 * know, or a registry that cannot be asked, is a problem naming it (400). Local images (no
 * registry) pass unchanged. Loopback registries are asked over HTTP, the others over HTTPS;
 * registries that need credentials are not supported yet (their 401 is reported).
 */
@Singleton
public class ImageDigests {
    static final String ACCEPT = String.join(", ",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json");
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT)
            .followRedirects(HttpClient.Redirect.NORMAL).build();

    /** What a resolution gave: the image to record, or the problem with it. */
    public record Pinned(String image, Problem problem) {
    }

    public Pinned pin(String image) {
        Optional<ImageRef> parsed = ImageRef.parse(image);
        if (parsed.isEmpty()) {
            return new Pinned(null, new Problem("image", image + " is not a valid image reference"));
        }
        ImageRef ref = parsed.get();
        if (!ref.hasRegistry()) {
            return new Pinned(image, null);
        }
        URI uri = URI.create((loopback(ref.registry()) ? "http://" : "https://") + ref.registry()
                + "/v2/" + ref.repository() + "/manifests/" + ref.reference());
        HttpResponse<Void> r;
        try {
            r = http.send(HttpRequest.newBuilder(uri).timeout(TIMEOUT).header("Accept", ACCEPT)
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        } catch (java.io.IOException e) {
            return new Pinned(null, new Problem("image", "registry " + ref.registry() + " of " + image
                    + " cannot be asked: " + e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Pinned(null, new Problem("image", "interrupted while asking registry " + ref.registry()));
        }
        if (r.statusCode() == 404) {
            return new Pinned(null, new Problem("image", "unknown image " + image + ": registry " + ref.registry()
                    + " has no manifest " + ref.repository() + ":" + ref.reference()));
        }
        if (r.statusCode() != 200) {
            return new Pinned(null, new Problem("image", "registry " + ref.registry() + " answered HTTP "
                    + r.statusCode() + " for " + image + (r.statusCode() == 401 ? " (registries needing credentials are not supported)" : "")));
        }
        String digest = r.headers().firstValue("Docker-Content-Digest").orElse(null);
        if (!ImageRef.validDigest(digest)) {
            return new Pinned(null, new Problem("image", "registry " + ref.registry() + " gave no sha256 digest for " + image));
        }
        if (ref.digest() != null && !ref.digest().equals(digest)) {
            return new Pinned(null, new Problem("image", "registry " + ref.registry() + " serves " + digest + " for " + image));
        }
        return new Pinned(ref.pinned(digest), null);
    }

    static boolean loopback(String registry) {
        String host = registry.startsWith("[") ? registry.substring(0, registry.indexOf(']') + 1)
                : registry.contains(":") ? registry.substring(0, registry.indexOf(':')) : registry;
        return host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]");
    }
}
