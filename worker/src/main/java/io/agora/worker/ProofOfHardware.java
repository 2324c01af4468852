package io.agora.worker;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Proof of hardware: a deterministic SHA-256 chain run for a fixed time. The score is thousands
 * of chain steps per second (higher is faster); the proof is the seed, the step count and the
 * final hash, which anyone can recompute with {@link #verify}. A spot check with {@link #verify}
 * would catch a worker claiming more steps than it did, but none exists yet: registration carries
 * only the score, and no service calls {@link #verify} (worker README, "Open").
 */
public final class ProofOfHardware {
    private static final int BLOCK = 4096;

    /** @param score thousands of SHA-256 chain steps per second */
    public record Proof(String seed, long steps, long elapsedMs, double score, String proofHash) {
    }

    private ProofOfHardware() {
    }

    public static Proof run(String seed, long durationMs) {
        chain("warm-up:" + seed, Math.max(5, Math.min(200, durationMs / 5))); // let the JIT compile the loop first
        return chain(seed, durationMs);
    }

    private static Proof chain(String seed, long durationMs) {
        MessageDigest md = sha256();
        byte[] h = md.digest(seed.getBytes(StandardCharsets.UTF_8));
        long steps = 0;
        long start = System.nanoTime();
        long deadline = start + Math.max(1, durationMs) * 1_000_000L;
        do {
            for (int i = 0; i < BLOCK; i++) {
                h = md.digest(h);
            }
            steps += BLOCK;
        } while (System.nanoTime() < deadline);
        long elapsedNs = Math.max(1, System.nanoTime() - start);
        double score = steps / (elapsedNs / 1e9) / 1000.0;
        return new Proof(seed, steps, elapsedNs / 1_000_000L, Math.round(score * 10) / 10.0, HexFormat.of().formatHex(h));
    }

    /** Recomputes the chain; true when {@code proofHash} is the hash after {@code steps} steps. */
    public static boolean verify(String seed, long steps, String proofHash) {
        MessageDigest md = sha256();
        byte[] h = md.digest(seed.getBytes(StandardCharsets.UTF_8));
        for (long i = 0; i < steps; i++) {
            h = md.digest(h);
        }
        return HexFormat.of().formatHex(h).equals(proofHash);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
