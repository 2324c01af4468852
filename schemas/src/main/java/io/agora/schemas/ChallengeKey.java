package io.agora.schemas;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The market's proof-of-hardware challenge key (HMAC-SHA256, {@code io.agora.market.PohChallenge}),
 * shared by ingest-api, which issues challenges, and the matcher, which checks the proofs that answer
 * them, and the bandwidth attestations ingest-api signs ({@code io.agora.market.BandwidthAttestation}):
 * {@value #FILE_CONFIG} ({@code AGORA_MARKET_CHALLENGE_KEY_FILE}), a file holding base64 of at least 32 random bytes ({@code head -c 32 /dev/urandom | base64}), mounted into both ({@code agora up}
 * makes {@code $AGORA_HOME/secrets/challenge.key}). Unset, the matcher makes its own in its state
 * directory (then no challenge ingest-api issues checks: every score counts 0) and ingest-api issues
 * none (503).
 */
public final class ChallengeKey {
    public static final String FILE_CONFIG = "agora.market.challenge.key.file";

    private ChallengeKey() {
    }

    /** The configured key, or the one in {@code stateDir} (made on first use). */
    public static byte[] load(AgoraConfig cfg, Path stateDir) {
        return find(cfg).orElseGet(() -> loadOrCreate(stateDir.resolve("challenge.key")));
    }

    /** The configured key; empty when {@value #FILE_CONFIG} is not set. */
    public static java.util.Optional<byte[]> find(AgoraConfig cfg) {
        String configured = cfg.get(FILE_CONFIG, "").strip();
        return configured.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(loadOrCreate(Path.of(configured)));
    }

    /** The key in {@code file}, created (owner-only) when missing. */
    public static byte[] loadOrCreate(Path file) {
        try {
            if (!Files.exists(file)) {
                byte[] key = new byte[32];
                new SecureRandom().nextBytes(key);
                Files.createDirectories(file.toAbsolutePath().getParent());
                Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "challenge", ".tmp");
                try {
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                } catch (UnsupportedOperationException e) {
                    // not a POSIX file system: its own permissions apply
                }
                Files.writeString(tmp, Base64.getEncoder().encodeToString(key) + "\n");
                try {
                    Files.move(tmp, file); // no REPLACE_EXISTING: the first key made wins
                } catch (java.nio.file.FileAlreadyExistsException raced) {
                    Files.deleteIfExists(tmp); // another process made it first: use theirs
                }
            }
            byte[] key = Base64.getDecoder().decode(Files.readString(file, StandardCharsets.US_ASCII).strip());
            if (key.length < 32) {
                throw new IllegalStateException(file + " holds " + key.length + " bytes: a challenge key needs at least 32");
            }
            return key;
        } catch (IOException e) {
            throw new UncheckedIOException("the challenge key " + file + " cannot be read or made", e);
        }
    }
}
