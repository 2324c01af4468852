package io.agora.artifacts;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Bytes copied to a temporary file while hashed and counted: a store learns an artifact's name
 * only once it has read all of it, and must not keep more than the caller allows.
 */
final class Staged implements AutoCloseable {
    final Path file;
    final String sha256;
    final long size;

    private Staged(Path file, String sha256, long size) {
        this.file = file;
        this.sha256 = sha256;
        this.size = size;
    }

    static Staged copy(InputStream in, long maxBytes, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "incoming-", ".part");
        try {
            MessageDigest md = Sha256.digest();
            long total = 0;
            byte[] buf = new byte[64 * 1024];
            try (OutputStream out = Files.newOutputStream(tmp)) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    total += n;
                    if (total > maxBytes) {
                        throw new ArtifactStore.TooLarge(maxBytes);
                    }
                    md.update(buf, 0, n);
                    out.write(buf, 0, n);
                }
            }
            return new Staged(tmp, HexFormat.of().formatHex(md.digest()), total);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    ArtifactStore.Artifact artifact() {
        return new ArtifactStore.Artifact(sha256, size);
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(file);
    }
}
