package io.agora.schemas;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * The canonical output hash that replicas vote with: SHA-256 over
 * {@code "exit:<code>\n" + "stdout:<length>\n" + stdout bytes + "\n"} followed, for each
 * declared output file in path order, by {@code "file:<path>:<sha256 hex>\n"}.
 * stderr is not part of it (it often carries timing noise).
 */
public final class OutputHash {
    private OutputHash() {
    }

    public static String of(int exitCode, byte[] stdout, Map<String, String> fileHashes) {
        MessageDigest md = sha256();
        md.update(("exit:" + exitCode + "\n").getBytes(StandardCharsets.UTF_8));
        md.update(("stdout:" + stdout.length + "\n").getBytes(StandardCharsets.UTF_8));
        md.update(stdout);
        md.update((byte) '\n');
        for (Map.Entry<String, String> f : new TreeMap<>(fileHashes).entrySet()) {
            md.update(("file:" + f.getKey() + ":" + f.getValue() + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public static String sha256Hex(byte[] data) {
        return HexFormat.of().formatHex(sha256().digest(data));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
