package io.agora.schemas;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The matcher's Ed25519 key, which signs every TaskAssigned ({@link Assignments}); the verifier and
 * the workers hold only its public key and refuse a task it does not sign.
 * <ul>
 *   <li>The matcher: {@value #FILE_CONFIG} ({@code AGORA_MATCHER_KEY_FILE}), the seed in base64,
 *   mounted into every instance; unset, {@code <agora.state.dir>/matcher.key}, created on first
 *   start ({@link Identity#provisioned}). {@code agora up} generates {@code $AGORA_HOME/keys/matcher.key}.</li>
 *   <li>The verifier and the workers: {@value #PUBLIC_CONFIG} ({@code AGORA_MATCHER_PUBLIC_KEY},
 *   base64url), else the first line of {@value #PUBLIC_FILE_CONFIG} ({@code AGORA_MATCHER_PUBLIC_KEY_FILE},
 *   the {@code .pub} beside the key). Without either they refuse to start.</li>
 * </ul>
 */
public final class MatcherKey {
    public static final String FILE_CONFIG = "agora.matcher.key.file";
    public static final String PUBLIC_CONFIG = "agora.matcher.public.key";
    public static final String PUBLIC_FILE_CONFIG = "agora.matcher.public.key.file";

    private MatcherKey() {
    }

    /** The matcher's signing key; unset, {@code <stateDir>/matcher.key}. */
    public static Identity load(AgoraConfig cfg, Path stateDir) {
        return Identity.provisioned(cfg, FILE_CONFIG, stateDir.resolve("matcher.key"), "matcher");
    }

    /** The matcher's public key (base64url), as configured; empty when neither setting is. */
    public static Optional<String> findPublic(AgoraConfig cfg) {
        Optional<String> key = cfg.find(PUBLIC_CONFIG).map(String::strip).filter(s -> !s.isEmpty());
        if (key.isPresent()) {
            return key;
        }
        Optional<String> file = cfg.find(PUBLIC_FILE_CONFIG).map(String::strip).filter(s -> !s.isEmpty());
        if (file.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Receipts.readPublicKey(Path.of(file.get()))).filter(s -> !s.isEmpty());
        } catch (IOException e) {
            throw new UncheckedIOException(PUBLIC_FILE_CONFIG + " names " + file.get() + ", which cannot be read", e);
        }
    }

    /** The matcher's public key (base64url); refuses to go on without one. */
    public static String publicKey(AgoraConfig cfg) {
        return findPublic(cfg).orElseThrow(() -> new IllegalStateException("the matcher's public key is not configured:"
                + " set AGORA_MATCHER_PUBLIC_KEY or AGORA_MATCHER_PUBLIC_KEY_FILE (the .pub beside the matcher's key);"
                + " tasks it does not sign are refused"));
    }
}
