package io.agora.schemas;

import io.agora.events.DisputeFeePayout;
import io.agora.events.DisputeReceipt;
import io.agora.events.Outcome;
import io.agora.events.Receipt;
import io.agora.events.ReceiptPayout;
import io.agora.events.SettlementReceipt;
import io.agora.events.SlashShare;
import io.agora.events.SlashTaken;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The market's signed receipts: what a job's escrow became ({@link Receipt}, carried by every JobVerdict), where a
 * decided dispute's fee went ({@link DisputeReceipt}) and what an overturned dispute's slashes took
 * ({@link SettlementReceipt}), each carried by a JobEvent DISPUTED. The verifier signs them with the market's Ed25519 key ({@link Identity}); anyone with the
 * market's public key (base64url, like a worker id) checks them offline. The signed bytes are
 * {@link Signatures#canonicalBytes}: the Avro binary of the receipt with an empty signature, so
 * every field, the signer's key included, is covered.
 */
public final class Receipts {
    private Receipts() {
    }

    /**
     * The market's public key from a key file: its first line, base64url, as the verifier writes it
     * beside its key ({@code <key file>.pub}).
     */
    public static String readPublicKey(java.nio.file.Path file) throws java.io.IOException {
        return java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.US_ASCII).lines().findFirst()
                .orElse("").strip();
    }

    /** Stamps the signer's public key on the receipt and signs it in place. */
    public static Receipt sign(Receipt r, Identity market) {
        r.setMarketKey(market.workerId());
        return Signatures.sign(r, market.privateKey());
    }

    /**
     * What is wrong with a receipt, checked against the market's public key: empty when it is
     * signed by that key, the signature holds, and payouts plus refund are the escrow.
     */
    public static List<String> problems(Receipt r, String marketKey) {
        List<String> out = signerProblems(r, r.getMarketKey(), marketKey, "receipt");
        long paid = 0;
        for (ReceiptPayout p : r.getPayouts()) {
            if (p.getMicros() < 0) {
                out.add("negative payout to " + p.getWorkerId());
            }
            paid += p.getMicros();
        }
        if (r.getRefundMicros() < 0 || paid + r.getRefundMicros() != r.getEscrowMicros()) {
            out.add("payouts " + paid + " + refund " + r.getRefundMicros() + " are not the escrow " + r.getEscrowMicros());
        }
        return out;
    }

    /** Stamps the signer's public key on a dispute's receipt and signs it in place. */
    public static DisputeReceipt sign(DisputeReceipt r, Identity market) {
        r.setMarketKey(market.workerId());
        return Signatures.sign(r, market.privateKey());
    }

    /**
     * What is wrong with a dispute's receipt, checked against the market's public key: empty when it is
     * signed by that key, the signature holds, and fee payouts plus fee refund are the fee.
     */
    public static List<String> problems(DisputeReceipt r, String marketKey) {
        List<String> out = signerProblems(r, r.getMarketKey(), marketKey, "dispute receipt");
        long paid = 0;
        for (DisputeFeePayout p : r.getFeePayouts()) {
            if (p.getMicros() < 0) {
                out.add("negative fee payout to " + p.getWorkerId());
            }
            paid += p.getMicros();
        }
        if (r.getFeeRefundMicros() < 0 || paid + r.getFeeRefundMicros() != r.getFeeMicros()) {
            out.add("fee payouts " + paid + " + fee refund " + r.getFeeRefundMicros() + " are not the fee " + r.getFeeMicros());
        }
        return out;
    }

    /** Stamps the signer's public key on an overturned dispute's settlement receipt and signs it in place. */
    public static SettlementReceipt sign(SettlementReceipt r, Identity market) {
        r.setMarketKey(market.workerId());
        return Signatures.sign(r, market.privateKey());
    }

    /**
     * What is wrong with a settlement receipt, checked against the market's public key: empty when it is signed by
     * that key, the signature holds, it names each slashed worker once, no amount is negative and each slash's client
     * share, honest shares and burn are what it took from the bond.
     */
    public static List<String> problems(SettlementReceipt r, String marketKey) {
        List<String> out = signerProblems(r, r.getMarketKey(), marketKey, "settlement receipt");
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (SlashTaken t : r.getSlashes()) {
            String w = t.getWorkerId();
            if (!seen.add(w)) {
                out.add("slash of " + w + " named twice");
            }
            long split = t.getClientMicros() + t.getBurnedMicros();
            for (SlashShare h : t.getHonestShares()) {
                if (h.getMicros() <= 0) {
                    out.add("slash of " + w + ": share " + h.getMicros() + " to " + h.getWorkerId() + " is not positive");
                }
                split += h.getMicros();
            }
            if (t.getReclaimMicros() < 0 || t.getSlashedMicros() < 0 || t.getClientMicros() < 0 || t.getBurnedMicros() < 0) {
                out.add("slash of " + w + ": a negative amount");
            }
            if (split != t.getSlashedMicros()) {
                out.add("slash of " + w + ": client share + honest shares + burn " + split + " are not the "
                        + t.getSlashedMicros() + " slashed");
            }
        }
        return out;
    }

    /** Whether {@code r}, stamped with {@code signer}, is signed by {@code marketKey}: empty, else why not. */
    private static List<String> signerProblems(org.apache.avro.specific.SpecificRecord r, String signer, String marketKey,
                                               String what) {
        List<String> out = new ArrayList<>();
        if (!marketKey.equals(signer)) {
            out.add("signed by " + signer + ", not the market key " + marketKey);
        } else if (!Signatures.verify(r, marketKey)) {
            out.add("bad signature: the " + what + " is not the one the market signed");
        }
        return out;
    }

    /** The receipt as stored (Avro single-object encoding: fingerprint, then the binary). */
    public static byte[] toBytes(Receipt r) {
        return encoded(r::toByteBuffer);
    }

    private interface Encoding {
        ByteBuffer encode() throws IOException;
    }

    private static byte[] encoded(Encoding e) {
        try {
            ByteBuffer b = e.encode();
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    public static Receipt fromBytes(byte[] bytes) {
        try {
            return Receipt.fromByteBuffer(ByteBuffer.wrap(bytes));
        } catch (IOException e) {
            throw new IllegalArgumentException("not a receipt: " + e.getMessage(), e);
        }
    }

    /**
     * The receipt as JSON-ready values (the HTTP API's form): every field by name, {@code issuedAt}
     * as ISO-8601 (millisecond precision, as signed), the signature in base64. {@link #fromMap}
     * reads it back to the same signed bytes.
     */
    public static Map<String, Object> toMap(Receipt r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("jobId", r.getJobId());
        m.put("clientId", r.getClientId());
        m.put("outcome", r.getOutcome().name());
        m.put("agreedHash", r.getAgreedHash());
        m.put("payouts", r.getPayouts().stream().map(p -> payout(p.getWorkerId(), p.getMicros())).toList());
        m.put("refundMicros", r.getRefundMicros());
        m.put("escrowMicros", r.getEscrowMicros());
        m.put("issuedAt", r.getIssuedAt().toString());
        m.put("marketKey", r.getMarketKey());
        m.put("signature", base64(r.getSignature()));
        return m;
    }

    /** Reads {@link #toMap}'s form (as parsed from JSON); throws IllegalArgumentException on a missing or malformed field. */
    public static Receipt fromMap(Map<String, ?> m) {
        try {
            List<ReceiptPayout> payouts = new ArrayList<>();
            for (Object o : (List<?>) required(m, "payouts")) {
                Map<?, ?> p = (Map<?, ?>) o;
                payouts.add(new ReceiptPayout(String.valueOf(p.get("workerId")), ((Number) p.get("micros")).longValue()));
            }
            Object hash = m.get("agreedHash");
            return Receipt.newBuilder()
                    .setJobId((String) required(m, "jobId"))
                    .setClientId((String) required(m, "clientId"))
                    .setOutcome(Outcome.valueOf((String) required(m, "outcome")))
                    .setAgreedHash(hash == null ? null : (String) hash)
                    .setPayouts(payouts)
                    .setRefundMicros(((Number) required(m, "refundMicros")).longValue())
                    .setEscrowMicros(((Number) required(m, "escrowMicros")).longValue())
                    .setIssuedAt(Instant.parse((String) required(m, "issuedAt")))
                    .setMarketKey((String) required(m, "marketKey"))
                    .setSignature(ByteBuffer.wrap(Base64.getDecoder().decode((String) required(m, "signature"))))
                    .build();
        } catch (ClassCastException | NullPointerException | java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("malformed receipt: " + e.getMessage(), e);
        }
    }

    /** A dispute's receipt as stored (Avro single-object encoding, as {@link #toBytes(Receipt)}). */
    public static byte[] toBytes(DisputeReceipt r) {
        return encoded(r::toByteBuffer);
    }

    public static DisputeReceipt disputeFromBytes(byte[] bytes) {
        try {
            return DisputeReceipt.fromByteBuffer(ByteBuffer.wrap(bytes));
        } catch (IOException e) {
            throw new IllegalArgumentException("not a dispute receipt: " + e.getMessage(), e);
        }
    }

    /** A dispute's receipt as JSON-ready values, like {@link #toMap(Receipt)}; {@link #disputeFromMap} reads it back. */
    public static Map<String, Object> toMap(DisputeReceipt r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("jobId", r.getJobId());
        m.put("clientId", r.getClientId());
        m.put("overturned", r.getOverturned());
        m.put("decidedHash", r.getDecidedHash());
        m.put("feeMicros", r.getFeeMicros());
        m.put("feePayouts", r.getFeePayouts().stream().map(p -> payout(p.getWorkerId(), p.getMicros())).toList());
        m.put("feeRefundMicros", r.getFeeRefundMicros());
        m.put("slashed", List.copyOf(r.getSlashed()));
        m.put("honestWorkers", List.copyOf(r.getHonestWorkers()));
        m.put("issuedAt", r.getIssuedAt().toString());
        m.put("marketKey", r.getMarketKey());
        m.put("signature", base64(r.getSignature()));
        return m;
    }

    /** Reads {@link #toMap(DisputeReceipt)}'s form; throws IllegalArgumentException on a missing or malformed field. */
    public static DisputeReceipt disputeFromMap(Map<String, ?> m) {
        try {
            List<DisputeFeePayout> payouts = new ArrayList<>();
            for (Object o : (List<?>) required(m, "feePayouts")) {
                Map<?, ?> p = (Map<?, ?>) o;
                payouts.add(new DisputeFeePayout(String.valueOf(p.get("workerId")), ((Number) p.get("micros")).longValue()));
            }
            return DisputeReceipt.newBuilder()
                    .setJobId((String) required(m, "jobId"))
                    .setClientId((String) required(m, "clientId"))
                    .setOverturned((Boolean) required(m, "overturned"))
                    .setDecidedHash((String) required(m, "decidedHash"))
                    .setFeeMicros(((Number) required(m, "feeMicros")).longValue())
                    .setFeePayouts(payouts)
                    .setFeeRefundMicros(((Number) required(m, "feeRefundMicros")).longValue())
                    .setSlashed(strings(required(m, "slashed")))
                    .setHonestWorkers(strings(required(m, "honestWorkers")))
                    .setIssuedAt(Instant.parse((String) required(m, "issuedAt")))
                    .setMarketKey((String) required(m, "marketKey"))
                    .setSignature(ByteBuffer.wrap(Base64.getDecoder().decode((String) required(m, "signature"))))
                    .build();
        } catch (ClassCastException | NullPointerException | java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("malformed dispute receipt: " + e.getMessage(), e);
        }
    }

    /** A settlement receipt as stored (Avro single-object encoding, as {@link #toBytes(Receipt)}). */
    public static byte[] toBytes(SettlementReceipt r) {
        return encoded(r::toByteBuffer);
    }

    public static SettlementReceipt settlementFromBytes(byte[] bytes) {
        try {
            return SettlementReceipt.fromByteBuffer(ByteBuffer.wrap(bytes));
        } catch (IOException e) {
            throw new IllegalArgumentException("not a settlement receipt: " + e.getMessage(), e);
        }
    }

    /** A settlement receipt as JSON-ready values, like {@link #toMap(Receipt)}; {@link #settlementFromMap} reads it back. */
    public static Map<String, Object> toMap(SettlementReceipt r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("jobId", r.getJobId());
        m.put("clientId", r.getClientId());
        m.put("slashes", r.getSlashes().stream().map(t -> {
            Map<String, Object> tm = new LinkedHashMap<>();
            tm.put("workerId", t.getWorkerId());
            tm.put("reclaimMicros", t.getReclaimMicros());
            tm.put("slashedMicros", t.getSlashedMicros());
            tm.put("clientMicros", t.getClientMicros());
            tm.put("honestShares", t.getHonestShares().stream().map(h -> payout(h.getWorkerId(), h.getMicros())).toList());
            tm.put("burnedMicros", t.getBurnedMicros());
            return tm;
        }).toList());
        m.put("issuedAt", r.getIssuedAt().toString());
        m.put("marketKey", r.getMarketKey());
        m.put("signature", base64(r.getSignature()));
        return m;
    }

    /** Reads {@link #toMap(SettlementReceipt)}'s form; throws IllegalArgumentException on a missing or malformed field. */
    public static SettlementReceipt settlementFromMap(Map<String, ?> m) {
        try {
            List<SlashTaken> slashes = new ArrayList<>();
            for (Object o : (List<?>) required(m, "slashes")) {
                Map<String, ?> t = asMap(o);
                List<SlashShare> shares = new ArrayList<>();
                for (Object h : (List<?>) required(t, "honestShares")) {
                    Map<?, ?> hm = (Map<?, ?>) h;
                    shares.add(new SlashShare(String.valueOf(hm.get("workerId")), ((Number) hm.get("micros")).longValue()));
                }
                slashes.add(new SlashTaken((String) required(t, "workerId"), micros(t, "reclaimMicros"),
                        micros(t, "slashedMicros"), micros(t, "clientMicros"), shares, micros(t, "burnedMicros")));
            }
            return SettlementReceipt.newBuilder()
                    .setJobId((String) required(m, "jobId"))
                    .setClientId((String) required(m, "clientId"))
                    .setSlashes(slashes)
                    .setIssuedAt(Instant.parse((String) required(m, "issuedAt")))
                    .setMarketKey((String) required(m, "marketKey"))
                    .setSignature(ByteBuffer.wrap(Base64.getDecoder().decode((String) required(m, "signature"))))
                    .build();
        } catch (ClassCastException | NullPointerException | java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("malformed settlement receipt: " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, ?> asMap(Object o) {
        return (Map<String, ?>) o;
    }

    private static long micros(Map<String, ?> m, String field) {
        return ((Number) required(m, field)).longValue();
    }

    private static Map<String, Object> payout(String workerId, long micros) {
        Map<String, Object> pm = new LinkedHashMap<>();
        pm.put("workerId", workerId);
        pm.put("micros", micros);
        return pm;
    }

    private static List<String> strings(Object list) {
        return ((List<?>) list).stream().map(o -> (String) o).toList();
    }

    private static String base64(ByteBuffer signature) {
        ByteBuffer sig = signature.duplicate();
        byte[] s = new byte[sig.remaining()];
        sig.get(s);
        return Base64.getEncoder().encodeToString(s);
    }

    private static Object required(Map<String, ?> m, String field) {
        Object v = m.get(field);
        if (v == null) {
            throw new IllegalArgumentException("malformed receipt: no " + field);
        }
        return v;
    }
}
