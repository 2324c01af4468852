package io.agora.schemas;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An image reference as Docker reads it: {@code [registry/]repository[:tag][@sha256:<64 hex>]}. The
 * first component is a registry when it has a dot or a port, or is {@code localhost}; an image
 * without one is a local image (the market neither resolves nor pulls it).
 */
public record ImageRef(String registry, String repository, String tag, String digest) {
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    /** The reference, or empty when it is not one (a digest that is not sha256:64 hex, an empty part). */
    public static Optional<ImageRef> parse(String image) {
        if (image == null || image.isBlank()) {
            return Optional.empty();
        }
        String rest = image;
        String digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = rest.substring(at + 1);
            rest = rest.substring(0, at);
            if (!DIGEST.matcher(digest).matches()) {
                return Optional.empty();
            }
        }
        String registry = null;
        int slash = rest.indexOf('/');
        if (slash > 0) {
            String first = rest.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
                registry = first;
                rest = rest.substring(slash + 1);
            }
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/')) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
        }
        if (rest.isEmpty() || (tag != null && tag.isEmpty())) {
            return Optional.empty();
        }
        return Optional.of(new ImageRef(registry, rest, tag, digest));
    }

    public boolean hasRegistry() {
        return registry != null;
    }

    /** {@code registry/repository}: the name a digest is appended to. */
    public String name() {
        return registry == null ? repository : registry + "/" + repository;
    }

    /** The tag or digest the registry's manifest endpoint takes ({@code latest} when neither). */
    public String reference() {
        return digest != null ? digest : tag != null ? tag : "latest";
    }

    /** {@code name@digest}. */
    public String pinned(String sha256Digest) {
        return name() + "@" + sha256Digest;
    }

    public static boolean validDigest(String digest) {
        return digest != null && DIGEST.matcher(digest).matches();
    }
}
