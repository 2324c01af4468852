package io.agora.verifier;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.Identity;

import java.nio.file.Path;

/**
 * The market's Ed25519 key, which signs every verdict's receipt. Every verifier instance must
 * sign with the same key, so it is provisioned, not invented per instance:
 * <ul>
 *   <li>{@code agora.verifier.market.key.file} ({@code AGORA_VERIFIER_MARKET_KEY_FILE}) names a
 *   file holding base64 of the 32-byte seed (e.g. {@code head -c 32 /dev/urandom | base64}),
 *   mounted into every instance; the verifier refuses to start when it is missing, rather than
 *   sign with a key of its own;</li>
 *   <li>unset, the key is {@code <agora.state.dir>/verifier-market.key}, created on first start
 *   (a single instance: the dev stack).</li>
 * </ul>
 * The public key (base64url, like a worker id) is written beside it as {@code <file>.pub}, logged
 * at start and served in the admin {@code /health} as {@code marketKey}.
 */
public final class MarketKey {
    public static final String FILE_CONFIG = "agora.verifier.market.key.file";

    private MarketKey() {
    }

    public static Identity load(AgoraConfig cfg) {
        return Identity.provisioned(cfg, FILE_CONFIG, Path.of(cfg.stateDir(), "verifier-market.key"), "market");
    }
}
