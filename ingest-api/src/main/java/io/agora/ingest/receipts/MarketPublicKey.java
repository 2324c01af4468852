package io.agora.ingest.receipts;

import io.agora.schemas.Receipts;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The market's public key (base64url Ed25519, as the verifier prints it), which clients use to
 * check their receipts offline: {@code agora.market.public-key} ({@code AGORA_MARKET_PUBLIC_KEY}),
 * else the first line of {@code agora.market.public-key-file} ({@code AGORA_MARKET_PUBLIC_KEY_FILE},
 * e.g. the verifier's {@code verifier-market.key.pub}), read on each call so a key provisioned after
 * start is served. Never taken from the receipts themselves: a key they name proves nothing.
 */
@Singleton
public class MarketPublicKey {
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_-]{43}");
    private final String key;
    private final String file;

    public MarketPublicKey(@Value("${agora.market.public-key:}") String key,
                           @Value("${agora.market.public-key-file:}") String file) {
        this.key = key.strip();
        this.file = file.strip();
    }

    /** The key, when configured and well formed. */
    public Optional<String> key() {
        String k = key;
        if (k.isEmpty() && !file.isEmpty()) {
            try {
                k = Receipts.readPublicKey(Path.of(file));
            } catch (IOException e) {
                return Optional.empty();
            }
        }
        return KEY.matcher(k).matches() ? Optional.of(k) : Optional.empty();
    }
}
