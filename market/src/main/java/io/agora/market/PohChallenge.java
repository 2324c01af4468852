package io.agora.market;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;

/**
 * The market's challenge a proof of hardware ({@link ProofOfHardware}) answers, so that a worker cannot
 * compute its proof before it asks, nor reuse one made for another host or long ago.
 *
 * <p>A challenge is the seed {@code poh1:<issuedAt ms>:<worker ids, sorted, comma-separated>:<nonce>},
 * the nonce being HMAC-SHA256 over the rest under the market's challenge key (shared by ingest-api,
 * which issues challenges, and the matcher, which checks them; no state, no topic: any instance of
 * either can issue or check any challenge). A host that runs several identities asks one challenge
 * for all of them and every identity registers with the same proof.
 *
 * <p>The matcher trusts a proof's score only when ({@link #check}) its nonce is the market's, it names
 * the registering worker, and it arrived (the registration's broker time) at most {@link #WINDOW_MS}
 * after it was issued; the score it then trusts ({@link #boundedScore}) is at most the steps over the
 * time from issue to arrival, so a proof that claims less time than it took gains nothing.
 */
public final class PohChallenge {
    public static final String VERSION = "poh1";
    /** How long after its issue a challenge may be answered. */
    public static final long WINDOW_MS = 120_000;
    /** How far the issuer's clock may run ahead of the broker's. */
    public static final long SKEW_MS = 5_000;
    /** The most identities one challenge may name (one host's). */
    public static final int MAX_WORKERS = 64;
    private static final int NONCE_HEX = 32;
    /**
     * Characters of the longest challenge: {@link #MAX_WORKERS} ids of {@link Limits#ID_MAX} characters,
     * issued at the largest time (a host's 4 identities already take more than one id's length).
     */
    public static final int MAX_SEED = VERSION.length() + 1 + String.valueOf(Long.MAX_VALUE).length() + 1
            + MAX_WORKERS * (Limits.ID_MAX + 1) - 1 + 1 + NONCE_HEX;

    /** A challenge's issue time and the workers it names. */
    public record Parsed(long issuedAt, List<String> workers) {
    }

    private PohChallenge() {
    }

    /** A fresh challenge for {@code workerIds} (sorted and deduplicated), issued at {@code issuedAt}. */
    public static String issue(byte[] key, Collection<String> workerIds, long issuedAt) {
        TreeSet<String> ids = new TreeSet<>(workerIds);
        if (ids.isEmpty() || ids.size() > MAX_WORKERS) {
            throw new IllegalArgumentException("a challenge names 1 to " + MAX_WORKERS + " workers, not " + ids.size());
        }
        for (String id : ids) {
            if (id.isEmpty() || id.contains(",") || id.contains(":")) {
                throw new IllegalArgumentException("not a worker id: '" + id + "'");
            }
        }
        String body = VERSION + ":" + issuedAt + ":" + String.join(",", ids);
        return body + ":" + nonce(key, body);
    }

    /** The challenge's parts, or null when {@code seed} is not one. */
    public static Parsed parse(String seed) {
        String[] p = seed == null ? new String[0] : seed.split(":", -1);
        if (p.length != 4 || !VERSION.equals(p[0]) || p[3].length() != NONCE_HEX) {
            return null;
        }
        try {
            List<String> ids = Arrays.asList(p[2].split(",", -1));
            return new Parsed(Long.parseLong(p[1]), List.copyOf(new ArrayList<>(ids)));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * Null when {@code seed} is a challenge the market issued naming {@code workerId}, answered (arrived)
     * at {@code arrivalMs} within its window; else why not.
     */
    public static String check(byte[] key, String seed, String workerId, long arrivalMs) {
        Parsed c = parse(seed);
        if (c == null) {
            return "proof answers no market challenge (seed '" + abbreviate(seed) + "')";
        }
        int cut = seed.lastIndexOf(':');
        if (!MessageDigest.isEqual(nonce(key, seed.substring(0, cut)).getBytes(StandardCharsets.US_ASCII),
                seed.substring(cut + 1).getBytes(StandardCharsets.US_ASCII))) {
            return "challenge not issued by this market (nonce does not verify)";
        }
        if (!c.workers().contains(workerId)) {
            return "challenge issued to other workers, not " + workerId;
        }
        if (c.issuedAt() > arrivalMs + SKEW_MS) {
            return "challenge issued at " + c.issuedAt() + ", after the proof arrived at " + arrivalMs;
        }
        if (arrivalMs - c.issuedAt() > WINDOW_MS) {
            return "challenge issued " + (arrivalMs - c.issuedAt()) + " ms before the proof arrived, more than "
                    + WINDOW_MS;
        }
        return null;
    }

    /**
     * The score the market trusts: the claimed one, at most the proof's steps over the time from the
     * challenge's issue to the proof's arrival (thousands of steps per second, as {@link ProofOfHardware}).
     */
    public static double boundedScore(double claimed, long steps, long issuedAt, long arrivalMs) {
        double provable = steps / (double) Math.max(1, arrivalMs - issuedAt);
        return Math.max(0, Math.min(claimed, Math.floor(provable * 10) / 10.0)); // rounded down: never above the bound
    }

    /** The score the market trusts and, when that is 0 for a claimed score, why. */
    public record Verdict(double score, String refused) {
    }

    /**
     * What a registration's claimed {@code score} and its {@code proof} are worth: the checks of
     * {@link #check} and {@link ProofOfHardware#check} (recomputing segment {@code sample}), then
     * {@link #boundedScore}; 0 with the reason when any fails, 0 without one when nothing is claimed.
     */
    public static Verdict verdict(byte[] key, String workerId, double score, io.agora.events.BenchmarkProof proof,
                                  long arrivalMs, int sample) {
        if (!(score > 0) && proof == null) {
            return new Verdict(0, null);
        }
        if (proof == null) {
            return new Verdict(0, "no proof");
        }
        String why = check(key, proof.getSeed(), workerId, arrivalMs);
        if (why == null) {
            why = ProofOfHardware.check(score, proof, proof.getSeed(), sample);
        }
        if (why != null) {
            return new Verdict(0, why);
        }
        return new Verdict(boundedScore(score, proof.getSteps(), parse(proof.getSeed()).issuedAt(), arrivalMs), null);
    }

    /** The first 16 bytes (32 hex digits) of HMAC-SHA256 over {@code body}: the market's mark on what it issued. */
    static String nonce(byte[] key, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8))).substring(0, NONCE_HEX);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String abbreviate(String s) {
        return s == null ? "" : s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }
}
