package io.agora.market;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;

/**
 * The market's word on a worker's download bandwidth, so that {@code networkMbps} is no longer a bare
 * claim. Ingest-api serves the bandwidth probe and times it itself, in three steps, with the market's
 * challenge key ({@link PohChallenge}: HMAC-SHA256, held by ingest-api and the matcher, no state):
 * <ol>
 * <li>the probe's answer carries a {@link #ticket} (header {@value #TICKET_HEADER}):
 * {@code bwt1:<startedAt ms>:<workerId>:<bytes>:<mac>}, the time the answer started, the worker that
 * signed the request and the probe's size;</li>
 * <li>the body's last {@value #RECEIPT_BYTES} bytes are the ticket's {@link #receipt}, which only the
 * market can compute and which a connection delivers only after every byte before it: the worker
 * cannot ask for the attestation before the whole probe crossed its link;</li>
 * <li>the worker sends ticket and receipt back ({@code GET /api/v1/probe/attestation}, signed by the same
 * worker) and gets the {@link #issue attestation} of the rate from the ticket's start to that request:
 * {@code bw1:<issuedAt ms>:<worker ids, sorted>:<mbps>:<mac>}; the ids are the signer's and those of the
 * identities its host co-hosts (they share the link, as a proof of hardware is shared).</li>
 * </ol>
 * The timed span includes the request's own round trip, so the rate is never above the link's.
 *
 * <p>The matcher ({@link #verdict}) counts a registration's {@code networkMbps} only up to an attested
 * figure issued by this market to that worker at most {@link #VALID_MS} before the registration arrived;
 * without one (absent, forged, another worker's, stale) the claim counts as 0, as an unchecked
 * proof-of-hardware score does. A figure the operator configured ({@code network.mbps}) or measured
 * against another URL is unchecked, hence 0 to the market.
 */
public final class BandwidthAttestation {
    public static final String VERSION = "bw1";
    public static final String TICKET_VERSION = "bwt1";
    /** The probe answer's header carrying the ticket. */
    public static final String TICKET_HEADER = "Agora-Probe-Ticket";
    /** The size of the receipt at the end of a probe body. */
    public static final int RECEIPT_BYTES = 16;
    /** The smallest probe that earns a ticket: below it the timing says more about latency than bandwidth. */
    public static final long MIN_BYTES = 1L << 20;
    /** How long after its probe started a ticket may be turned into an attestation. */
    public static final long TICKET_MS = 60_000;
    /** How long an attestation holds: the registration it goes in must arrive within it. */
    public static final long VALID_MS = 600_000;

    /** A ticket's parts. */
    public record Ticket(long startedAt, String workerId, long bytes) {
    }

    /** An attestation's parts. */
    public record Parsed(long issuedAt, List<String> workers, int mbps) {
    }

    /** The figure the market counts and, when it is 0 for a claim, why. */
    public record Verdict(int mbps, String refused) {
    }

    private BandwidthAttestation() {
    }

    /** The ticket of a probe of {@code bytes} signed by {@code workerId}, whose answer starts at {@code startedAt}. */
    public static String ticket(byte[] key, String workerId, long bytes, long startedAt) {
        requireId(workerId);
        String body = TICKET_VERSION + ":" + startedAt + ":" + workerId + ":" + bytes;
        return body + ":" + PohChallenge.nonce(key, body);
    }

    /** The ticket's parts when the market issued it; else null. */
    public static Ticket parseTicket(byte[] key, String ticket) {
        String[] p = ticket == null ? new String[0] : ticket.split(":", -1);
        if (p.length != 5 || !TICKET_VERSION.equals(p[0]) || !marked(key, ticket)) {
            return null;
        }
        try {
            return new Ticket(Long.parseLong(p[1]), p[2], Long.parseLong(p[3]));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The {@value #RECEIPT_BYTES} bytes a probe with {@code ticket} ends with. */
    public static byte[] receipt(byte[] key, String ticket) {
        return HexFormat.of().parseHex(PohChallenge.nonce(key, "receipt:" + ticket));
    }

    /** Whether {@code receiptHex} is the receipt of {@code ticket}. */
    public static boolean receiptMatches(byte[] key, String ticket, String receiptHex) {
        return receiptHex != null && MessageDigest.isEqual(HexFormat.of().formatHex(receipt(key, ticket))
                .getBytes(StandardCharsets.US_ASCII), receiptHex.strip().toLowerCase(java.util.Locale.ROOT)
                .getBytes(StandardCharsets.US_ASCII));
    }

    /** Mbit/s of {@code bytes} moved from {@code startedAt} to {@code endedAt}, rounded down (at least 1 ms). */
    public static int mbps(long bytes, long startedAt, long endedAt) {
        double bits = bytes * 8.0;
        return (int) Math.min(Integer.MAX_VALUE, bits / 1000.0 / Math.max(1, endedAt - startedAt));
    }

    /** The attestation that {@code workerIds} (1 to {@link PohChallenge#MAX_WORKERS}) download at {@code mbps}, issued at {@code issuedAt}. */
    public static String issue(byte[] key, Collection<String> workerIds, int mbps, long issuedAt) {
        TreeSet<String> ids = new TreeSet<>(workerIds);
        if (ids.isEmpty() || ids.size() > PohChallenge.MAX_WORKERS) {
            throw new IllegalArgumentException("an attestation names 1 to " + PohChallenge.MAX_WORKERS + " workers, not " + ids.size());
        }
        ids.forEach(BandwidthAttestation::requireId);
        String body = VERSION + ":" + issuedAt + ":" + String.join(",", ids) + ":" + Math.max(0, mbps);
        return body + ":" + PohChallenge.nonce(key, body);
    }

    /** The attestation's parts, or null when it is not one (its mark is not checked here). */
    public static Parsed parse(String attestation) {
        String[] p = attestation == null ? new String[0] : attestation.split(":", -1);
        if (p.length != 5 || !VERSION.equals(p[0])) {
            return null;
        }
        try {
            return new Parsed(Long.parseLong(p[1]), List.of(p[2].split(",", -1)), Integer.parseInt(p[3]));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * What a registration's {@code claimedMbps} is worth to the market, the registration having arrived at
     * {@code arrivalMs}: at most the figure of an {@code attestation} this market issued to {@code workerId}
     * within {@link #VALID_MS} before; else 0 with the reason (none when nothing is claimed nor attested).
     */
    public static Verdict verdict(byte[] key, String workerId, int claimedMbps, String attestation, long arrivalMs) {
        if (attestation == null || attestation.isEmpty()) {
            return new Verdict(0, claimedMbps > 0 ? "no market attestation (an unchecked claim counts 0)" : null);
        }
        Parsed a = parse(attestation);
        if (a == null) {
            return new Verdict(0, "not a bandwidth attestation");
        }
        if (!marked(key, attestation)) {
            return new Verdict(0, "attestation not issued by this market (mark does not verify)");
        }
        if (!a.workers().contains(workerId)) {
            return new Verdict(0, "attestation issued to other workers, not " + workerId);
        }
        if (a.issuedAt() > arrivalMs + PohChallenge.SKEW_MS) {
            return new Verdict(0, "attestation issued at " + a.issuedAt() + ", after the registration arrived at " + arrivalMs);
        }
        if (arrivalMs - a.issuedAt() > VALID_MS) {
            return new Verdict(0, "stale attestation: issued " + (arrivalMs - a.issuedAt()) + " ms before the registration"
                    + " arrived, more than " + VALID_MS);
        }
        return new Verdict(Math.max(0, Math.min(claimedMbps, a.mbps())), null);
    }

    private static boolean marked(byte[] key, String s) {
        int cut = s.lastIndexOf(':');
        return cut > 0 && MessageDigest.isEqual(PohChallenge.nonce(key, s.substring(0, cut)).getBytes(StandardCharsets.US_ASCII),
                s.substring(cut + 1).getBytes(StandardCharsets.US_ASCII));
    }

    private static void requireId(String id) {
        if (id == null || id.isEmpty() || id.contains(",") || id.contains(":")) {
            throw new IllegalArgumentException("not a worker id: '" + id + "'");
        }
    }
}
