package io.agora.schemas;

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

/**
 * Ed25519 signatures over Avro records that carry a {@code signature} field
 * (WorkerRegistration, Heartbeat, TaskResult). The signed bytes are the record's Avro
 * binary encoding with an empty signature, so every field, including job, replica, attempt
 * and sequence number, is covered. Worker ids are the base64url public key, so a signature
 * can be checked against the sender id without any lookup.
 */
public final class Signatures {
    private static final String FIELD = "signature";

    private Signatures() {
    }

    /** The exact bytes a signature covers. */
    public static byte[] canonicalBytes(SpecificRecord record) {
        SpecificRecord copy = SpecificData.getForSchema(record.getSchema()).deepCopy(record.getSchema(), record);
        int pos = record.getSchema().getField(FIELD).pos();
        copy.put(pos, ByteBuffer.allocate(0));
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(256);
            BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
            new SpecificDatumWriter<SpecificRecord>(record.getSchema()).write(copy, enc);
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
            byte[] pub = Base64.getUrlDecoder().decode(workerId);
            if (pub.length != Ed25519PublicKeyParameters.KEY_SIZE) {
                return false;
            }
            ByteBuffer sigBuf = (ByteBuffer) record.get(record.getSchema().getField(FIELD).pos());
            if (sigBuf == null) {
                return false;
            }
            byte[] sig = new byte[sigBuf.remaining()];
            sigBuf.duplicate().get(sig);
            Ed25519Signer verifier = new Ed25519Signer();
            verifier.init(false, new Ed25519PublicKeyParameters(pub, 0));
            byte[] msg = canonicalBytes(record);
            verifier.update(msg, 0, msg.length);
            return verifier.verifySignature(sig);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The worker id (base64url, no padding) of a key. */
    public static String workerId(Ed25519PrivateKeyParameters key) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(key.generatePublicKey().getEncoded());
    }
}
