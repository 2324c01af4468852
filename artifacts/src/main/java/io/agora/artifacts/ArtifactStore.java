package io.agora.artifacts;

import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * Where the market keeps files by their content: a job's inputs, the files a replica wrote under
 * {@code /outputs}, its stdout and stderr. An artifact's name is the hex SHA-256 of its bytes, so
 * storing the same bytes twice is one artifact, and whoever reads one can check it is what was
 * asked for: {@link #open} returns a stream that fails at its end when the bytes do not hash to
 * the name (a store that lost or altered them is caught, never served). Implementations:
 * {@link DiskArtifactStore} (the embedded default) and {@link S3ArtifactStore} (any S3-compatible
 * service); {@link ArtifactStores#open} picks one from a URL.
 */
public interface ArtifactStore {

    /**
     * Reads {@code in} to its end and stores it under its SHA-256. More than {@code maxBytes}
     * bytes: nothing is stored and {@link TooLarge} is thrown. Bytes already held are not written again.
     */
    Artifact put(InputStream in, long maxBytes) throws IOException;

    /** The artifact's bytes, verified against {@code sha256} as they are read; empty when not held. */
    Optional<InputStream> open(String sha256) throws IOException;

    /** The artifact's size in bytes; empty when not held. */
    Optional<Long> size(String sha256) throws IOException;

    /** Removes the artifact (retention, a bounded cache); true when it was held. */
    boolean delete(String sha256) throws IOException;

    /** Where the artifacts are, for logs and health (no secrets). */
    String describe();

    /** One stored artifact. */
    record Artifact(String sha256, long size) {
    }

    /** More bytes than the caller allowed. */
    final class TooLarge extends IOException {
        private final long maxBytes;

        public TooLarge(long maxBytes) {
            super("more than " + maxBytes + " bytes");
            this.maxBytes = maxBytes;
        }

        public long maxBytes() {
            return maxBytes;
        }
    }
}
