package io.agora.artifacts;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The embedded default: artifacts as files {@code <root>/sha256/<first two hex>/<sha256>}, each
 * written to a temporary file in {@code <root>/incoming} and moved into place atomically, so a
 * reader never sees half an artifact and a crash leaves at most a temporary file (removed on open).
 */
public final class DiskArtifactStore implements ArtifactStore {
    private final Path root;
    private final Path incoming;

    public DiskArtifactStore(Path root) throws IOException {
        this.root = root.toAbsolutePath();
        this.incoming = this.root.resolve("incoming");
        Files.createDirectories(incoming);
        try (var left = Files.list(incoming)) {
            for (Path p : (Iterable<Path>) left::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Override
    public Artifact put(InputStream in, long maxBytes) throws IOException {
        try (Staged staged = Staged.copy(in, maxBytes, incoming)) {
            Path target = path(staged.sha256);
            if (!Files.exists(target)) {
                Files.createDirectories(target.getParent());
                try {
                    Files.move(staged.file, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (FileAlreadyExistsException e) {
                    // the same bytes stored meanwhile
                } catch (AtomicMoveNotSupportedException e) {
                    throw new IOException("artifact folder " + root + " cannot take atomic moves", e);
                }
            }
            return staged.artifact();
        }
    }

    @Override
    public Optional<InputStream> open(String sha256) throws IOException {
        Path p = path(Sha256.require(sha256));
        if (!Files.isRegularFile(p)) {
            return Optional.empty();
        }
        return Optional.of(new VerifiedInputStream(Files.newInputStream(p), sha256));
    }

    @Override
    public Optional<Long> size(String sha256) throws IOException {
        Path p = path(Sha256.require(sha256));
        return Files.isRegularFile(p) ? Optional.of(Files.size(p)) : Optional.empty();
    }

    @Override
    public boolean delete(String sha256) throws IOException {
        return Files.deleteIfExists(path(Sha256.require(sha256)));
    }

    /** Every artifact held, least recently written first (a cache rebuilds its order from it after a restart). */
    public java.util.List<Artifact> list() throws IOException {
        Path dir = root.resolve("sha256");
        if (!Files.isDirectory(dir)) {
            return java.util.List.of();
        }
        try (var files = Files.walk(dir, 2)) {
            java.util.List<Path> held = new java.util.ArrayList<>(files.filter(Files::isRegularFile)
                    .filter(p -> Sha256.valid(p.getFileName().toString())).toList());
            java.util.List<Artifact> out = new java.util.ArrayList<>();
            held.sort(java.util.Comparator.comparing(p -> p.toFile().lastModified()));
            for (Path p : held) {
                out.add(new Artifact(p.getFileName().toString(), Files.size(p)));
            }
            return out;
        }
    }

    @Override
    public String describe() {
        return "disk " + root;
    }

    Path path(String sha256) {
        return root.resolve("sha256").resolve(sha256.substring(0, 2)).resolve(sha256);
    }
}
