package io.agora.schemas;

import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ed25519 signatures over Avro records that carry a {@code signature} field
 * (WorkerRegistration, Heartbeat, TaskResult). The signed bytes are the record's Avro
 * binary encoding with an empty signature, so every field, including job, replica, attempt
 * and sequence number, is covered. Worker ids are the base64url public key, so a signature
 * can be checked against the sender id without any lookup.
 */
public final class Signatures {
    private static final String FIELD = "signature";
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** One writer per signed record type (a writer holds no state between writes). */
    private static final Map<Schema, SpecificDatumWriter<SpecificRecord>> WRITERS = new ConcurrentHashMap<>();
    /**
     * Decoded public keys by worker id: decoding a key is a point decompression, a good part of
     * a verification, and the same few thousand senders sign everything; cleared when it grows past
     * {@link #KEYS_KEPT}.
     */
    private static final Map<String, Ed25519PublicKeyParameters> KEYS = new ConcurrentHashMap<>();
    private static final int KEYS_KEPT = 100_000;

    private Signatures() {
    }

    /** The exact bytes a signature covers. */
    public static byte[] canonicalBytes(SpecificRecord record) {
        Schema schema = record.getSchema();
        // a shallow copy is enough: only the top-level signature field differs, and writing reads
        SpecificRecord copy = (SpecificRecord) SpecificData.getForSchema(schema).newRecord(null, schema);
        for (int i = schema.getFields().size() - 1; i >= 0; i--) {
            copy.put(i, record.get(i));
        }
        copy.put(schema.getField(FIELD).pos(), EMPTY);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(256);
            BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
            WRITERS.computeIfAbsent(schema, SpecificDatumWriter::new).write(copy, enc);
            enc.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Signs the record in place and returns it. */
    public static <T extends SpecificRecord> T sign(T record, Ed25519PrivateKeyParameters key) {
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, key);
        byte[] msg = canonicalBytes(record);
        signer.update(msg, 0, msg.length);
        record.put(record.getSchema().getField(FIELD).pos(), ByteBuffer.wrap(signer.generateSignature()));
        return record;
    }

    /** True when the record's signature is valid for the given worker id (base64url public key). */
    public static boolean verify(SpecificRecord record, String workerId) {
        try {
            Ed25519PublicKeyParameters key = publicKey(workerId);
            if (key == null) {
                return false;
            }
            ByteBuffer sigBuf = (ByteBuffer) record.get(record.getSchema().getField(FIELD).pos());
            if (sigBuf == null) {
                return false;
            }
            byte[] sig = new byte[sigBuf.remaining()];
            sigBuf.duplicate().get(sig);
            Ed25519Signer verifier = new Ed25519Signer();
            verifier.init(false, key);
            byte[] msg = canonicalBytes(record);
            verifier.update(msg, 0, msg.length);
            return verifier.verifySignature(sig);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The key a worker id (base64url public key) names, or null when it names none. */
    private static Ed25519PublicKeyParameters publicKey(String workerId) {
        Ed25519PublicKeyParameters key = KEYS.get(workerId);
        if (key != null) {
            return key;
        }
        byte[] pub = Base64.getUrlDecoder().decode(workerId);
        if (pub.length != Ed25519PublicKeyParameters.KEY_SIZE) {
            return null;
        }
        key = new Ed25519PublicKeyParameters(pub, 0);
        if (KEYS.size() >= KEYS_KEPT) {
            KEYS.clear();
        }
        KEYS.put(workerId, key);
        return key;
    }

    /** The worker id (base64url, no padding) of a key. */
    public static String workerId(Ed25519PrivateKeyParameters key) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(key.generatePublicKey().getEncoded());
    }
}
