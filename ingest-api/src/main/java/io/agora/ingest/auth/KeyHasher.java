package io.agora.ingest.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The form API keys take. A key is {@code agk_<keyId>_<secret>}: the key id finds the row, the
 * secret is checked against {@code SHA-256(salt || secret)} in constant time. The secret has 256
 * random bits, so a fast hash with a per-key salt is enough (no password stretching needed).
 */
public final class KeyHasher {
    public static final String PREFIX = "agk_";
    private final SecureRandom random;

    public KeyHasher(SecureRandom random) {
        this.random = random;
    }

    public KeyHasher() {
        this(new SecureRandom());
    }

    /** A fresh key: its id, its clear form (shown once) and what is stored. */
    public Issued issue() {
        String keyId = HexFormat.of().formatHex(bytes(8));
        String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(32));
        String salt = HexFormat.of().formatHex(bytes(16));
        return new Issued(keyId, PREFIX + keyId + "_" + secret, salt, hash(salt, secret));
    }

    public static String hash(String salt, String secret) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(HexFormat.of().parseHex(salt));
            return HexFormat.of().formatHex(sha.digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static boolean matches(String salt, String expectedHash, String secret) {
        byte[] actual = hash(salt, secret).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(actual, expectedHash.getBytes(StandardCharsets.US_ASCII));
    }

    /** Splits a presented key into key id and secret; null if it does not have the key's shape. */
    public static Parsed parse(String apiKey) {
        if (apiKey == null || !apiKey.startsWith(PREFIX)) {
            return null;
        }
        String rest = apiKey.substring(PREFIX.length());
        int sep = rest.indexOf('_');
        if (sep <= 0 || sep == rest.length() - 1) {
            return null;
        }
        return new Parsed(rest.substring(0, sep), rest.substring(sep + 1));
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    public record Issued(String keyId, String apiKey, String salt, String hash) {
    }

    public record Parsed(String keyId, String secret) {
    }
}
