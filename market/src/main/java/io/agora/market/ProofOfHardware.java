package io.agora.market;

import io.agora.events.BenchmarkProof;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Proof of hardware: a deterministic SHA-256 chain run for a fixed time. The score is thousands
 * of chain steps per second (higher is faster). The proof ({@link BenchmarkProof}) is the seed, the
 * step count, the elapsed time, the hash after every {@code stride} steps (at most
 * {@link #CHECKPOINTS}) and the final hash. A checker does not redo the whole chain: it recomputes
 * one segment between two checkpoints ({@link #check}), about 1/{@value #CHECKPOINTS} of the work,
 * chosen by the checker; a worker that skipped or faked steps gets caught in proportion to how
 * much it faked. The seed is the market's challenge ({@link PohChallenge}): a proof answers one
 * challenge, issued to the identities of one host a short while before the proof arrives.
 */
public final class ProofOfHardware {
    /** Steps between two clock reads. */
    private static final int BLOCK = 4096;
    /** At most this many checkpoints in a proof. */
    public static final int CHECKPOINTS = 32;
    /** The most steps a checker recomputes for one proof (one segment); a longer segment is refused. */
    public static final long MAX_SEGMENT = 1L << 20;

    /** @param score thousands of SHA-256 chain steps per second */
    public record Proof(String seed, long steps, long elapsedMs, double score, String proofHash, long stride,
                        List<String> checkpoints) {
        public BenchmarkProof toEvent() {
            return new BenchmarkProof(seed, steps, elapsedMs, stride, checkpoints, proofHash);
        }
    }

    private ProofOfHardware() {
    }

    /** A local seed, for a worker that got no challenge from the market: the matcher trusts no score from it. */
    public static String seed(String workerId, long registrationSeq) {
        return workerId + ":" + registrationSeq;
    }

    public static Proof run(String seed, long durationMs) {
        warmUp(durationMs);
        return timed(seed, durationMs);
    }

    /** Lets the JIT compile the chain's loop before a proof of {@code durationMs} is timed. */
    public static void warmUp(long durationMs) {
        timed("warm-up", Math.max(5, Math.min(200, durationMs / 5)));
    }

    /** A proof of about {@code durationMs}, without warm-up. */
    public static Proof timed(String seed, long durationMs) {
        long deadline = System.nanoTime() + Math.max(1, durationMs) * 1_000_000L;
        return chain(seed, blocks -> System.nanoTime() < deadline);
    }

    /** A proof of exactly {@code blocks} blocks of steps, however long they take (tests). */
    static Proof ofBlocks(String seed, int blocks) {
        return chain(seed, done -> done < blocks);
    }

    private static Proof chain(String seed, java.util.function.IntPredicate more) {
        MessageDigest md = sha256();
        byte[] h = md.digest(seed.getBytes(StandardCharsets.UTF_8));
        List<byte[]> blocks = new ArrayList<>();
        long steps = 0;
        long start = System.nanoTime();
        do {
            for (int i = 0; i < BLOCK; i++) {
                h = md.digest(h);
            }
            steps += BLOCK;
            blocks.add(h);
        } while (more.test(blocks.size()));
        long elapsedNs = Math.max(1, System.nanoTime() - start);
        double score = steps / (elapsedNs / 1e9) / 1000.0;
        int perCheckpoint = (blocks.size() + CHECKPOINTS - 1) / CHECKPOINTS;
        List<String> checkpoints = new ArrayList<>();
        for (int b = perCheckpoint; b < blocks.size(); b += perCheckpoint) {
            checkpoints.add(HexFormat.of().formatHex(blocks.get(b - 1)));
        }
        return new Proof(seed, steps, elapsedNs / 1_000_000L, Math.round(score * 10) / 10.0, HexFormat.of().formatHex(h),
                (long) perCheckpoint * BLOCK, List.copyOf(checkpoints));
    }

    /** Recomputes the whole chain; true when {@code proofHash} is the hash after {@code steps} steps. */
    public static boolean verify(String seed, long steps, String proofHash) {
        return HexFormat.of().formatHex(run(digestOf(seed), steps)).equals(proofHash);
    }

    /**
     * Checks a claimed score against its proof, recomputing segment {@code sample} (any int: taken
     * modulo the segments) of the chain; null when it holds, else why not.
     *
     * @param seed the challenge the proof must answer
     */
    public static String check(double claimedScore, BenchmarkProof p, String seed, int sample) {
        if (p == null) {
            return "no proof";
        }
        if (!seed.equals(p.getSeed())) {
            return "proof answers seed '" + p.getSeed() + "', not the challenge '" + seed + "'";
        }
        long steps = p.getSteps();
        long stride = p.getStride();
        int n = p.getCheckpoints().size();
        if (steps <= 0 || stride <= 0 || n > CHECKPOINTS || stride > MAX_SEGMENT || (long) n * stride >= steps
                || steps - (long) n * stride > stride) {
            return "malformed proof: " + steps + " steps, " + n + " checkpoints every " + stride;
        }
        double provable = steps / (double) Math.max(1, p.getElapsedMs()); // thousands of steps per second
        if (claimedScore > provable * 1.01 + 0.1) {
            return "score " + claimedScore + " above the " + Math.round(provable * 10) / 10.0 + " its proof shows";
        }
        int segments = n + 1;
        int i = Math.floorMod(sample, segments);
        byte[] from = i == 0 ? digestOf(seed) : HexFormat.of().parseHex(p.getCheckpoints().get(i - 1));
        long length = i < n ? stride : steps - (long) n * stride;
        String expected = i < n ? p.getCheckpoints().get(i) : p.getProofHash();
        if (!HexFormat.of().formatHex(run(from, length)).equals(expected)) {
            return "segment " + i + " of " + segments + " does not recompute";
        }
        return null;
    }

    private static byte[] digestOf(String seed) {
        return sha256().digest(seed.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] run(byte[] from, long steps) {
        MessageDigest md = sha256();
        byte[] h = from;
        for (long i = 0; i < steps; i++) {
            h = md.digest(h);
        }
        return h;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
