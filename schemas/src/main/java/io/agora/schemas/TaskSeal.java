package io.agora.schemas;

import io.agora.events.JobSpec;
import io.agora.events.SealedSpec;
import io.agora.events.TaskAssigned;
import org.apache.kafka.common.serialization.Serde;

import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A task's spec sealed to the worker it is assigned to. Every worker principal may read every
 * partition of {@code agora.jobs.tasks} (ACLs are per topic), so the matcher seals the whole
 * {@link JobSpec} to the worker's X25519 key (its {@code sealKey}, signed in its registration) and
 * leaves in the clear only what matching, pricing and the verifier need: the spec without command
 * and env. Sealing: an ephemeral X25519 key agreement with the worker's key, HKDF-SHA256 (salt:
 * both public keys) to a 256-bit key, AES-GCM over the spec's Avro binary with the task id and
 * worker id as associated data, so a sealed spec moved to another task does not open. JDK crypto only.
 */
public final class TaskSeal {
    private static final byte[] X509_PREFIX = hex("302a300506032b656e032100");
    private static final byte[] PKCS8_PREFIX = hex("302e020100300506032b656e04220420");
    private static final byte[] INFO = "agora task seal v1".getBytes(StandardCharsets.US_ASCII);
    private static final int NONCE_BYTES = 12;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Serde<JobSpec> SPEC = AgoraSerdes.plain().avroSerde(JobSpec.class);

    private TaskSeal() {
    }

    /** A worker's X25519 key pair: the private key stays in its state dir, the public one (base64url) is its {@code sealKey}. */
    public record Keys(PrivateKey privateKey, String publicKey) {
        public static Keys generate() {
            try {
                KeyPair kp = KeyPairGenerator.getInstance("X25519").generateKeyPair();
                return new Keys(kp.getPrivate(), encode(kp.getPublic()));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("X25519 is not available", e);
            }
        }

        /** Loads the key at {@code file} (base64 of the 32-byte private key), creating it owner-only on first use. */
        public static Keys loadOrCreate(Path file) {
            try {
                if (Files.exists(file)) {
                    byte[] raw = Base64.getDecoder().decode(Files.readString(file, StandardCharsets.US_ASCII).trim());
                    PrivateKey key = KeyFactory.getInstance("X25519").generatePrivate(new PKCS8EncodedKeySpec(concat(PKCS8_PREFIX, raw)));
                    return new Keys(key, publicOf(key));
                }
                Keys k = generate();
                if (file.getParent() != null) {
                    Files.createDirectories(file.getParent());
                }
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                byte[] pkcs8 = k.privateKey().getEncoded();
                Files.writeString(file, Base64.getEncoder().encodeToString(
                        Arrays.copyOfRange(pkcs8, pkcs8.length - 32, pkcs8.length)) + "\n");
                return k;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read or create seal key " + file, e);
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new IllegalStateException("seal key " + file + " is not an X25519 key", e);
            }
        }

        private static String publicOf(PrivateKey key) throws GeneralSecurityException {
            // the public key is the agreement of the private key with the base point u = 9
            byte[] base = new byte[32];
            base[0] = 9;
            KeyAgreement ka = KeyAgreement.getInstance("X25519");
            ka.init(key);
            ka.doPhase(decode(Base64.getUrlEncoder().withoutPadding().encodeToString(base)), true);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(ka.generateSecret());
        }
    }

    /**
     * The task with its spec sealed to {@code sealKey} (base64url X25519): {@code sealedSpec} set,
     * the clear spec without command and env. The task itself is not changed.
     */
    public static TaskAssigned seal(TaskAssigned t, String sealKey) {
        try {
            PublicKey recipient = decode(sealKey);
            KeyPair eph = KeyPairGenerator.getInstance("X25519").generateKeyPair();
            String ephKey = encode(eph.getPublic());
            byte[] nonce = new byte[NONCE_BYTES];
            RANDOM.nextBytes(nonce);
            Cipher c = cipher(Cipher.ENCRYPT_MODE, eph.getPrivate(), recipient, ephKey, sealKey, nonce, t);
            byte[] sealed = c.doFinal(SPEC.serializer().serialize("", t.getSpec()));
            JobSpec clear = JobSpec.newBuilder(t.getSpec()).setCommand(List.of()).setEnv(Map.of()).build();
            return TaskAssigned.newBuilder(t).setSpec(clear)
                    .setSealedSpec(new SealedSpec(ephKey, ByteBuffer.wrap(nonce), ByteBuffer.wrap(sealed))).build();
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot seal to " + sealKey + ": " + e, e);
        }
    }

    /** The task with its spec opened by the worker's keys; throws IllegalArgumentException saying why it does not open. */
    public static TaskAssigned open(TaskAssigned t, Keys keys) {
        SealedSpec s = t.getSealedSpec();
        if (s == null) {
            throw new IllegalArgumentException("task " + t.getTaskId() + " has no sealed spec");
        }
        try {
            Cipher c = cipher(Cipher.DECRYPT_MODE, keys.privateKey(), decode(s.getEphemeralKey()), s.getEphemeralKey(),
                    keys.publicKey(), bytes(s.getNonce()), t);
            JobSpec spec = SPEC.deserializer().deserialize("", c.doFinal(bytes(s.getCiphertext())));
            return TaskAssigned.newBuilder(t).setSpec(spec).build();
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("sealed spec of " + t.getTaskId() + " does not open with this worker's key: "
                    + e.getClass().getSimpleName(), e);
        }
    }

    private static Cipher cipher(int mode, PrivateKey own, PublicKey other, String ephKey, String sealKey, byte[] nonce,
                                 TaskAssigned t) throws GeneralSecurityException {
        KeyAgreement ka = KeyAgreement.getInstance("X25519");
        ka.init(own);
        ka.doPhase(other, true);
        byte[] shared = ka.generateSecret();
        byte[] key = hkdf(shared, (ephKey + "|" + sealKey).getBytes(StandardCharsets.US_ASCII));
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
        c.updateAAD((t.getTaskId() + "|" + t.getWorkerId()).getBytes(StandardCharsets.UTF_8));
        return c;
    }

    /** HKDF-SHA256 (RFC 5869), one 32-byte block. */
    private static byte[] hkdf(byte[] ikm, byte[] salt) throws GeneralSecurityException {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(salt, "HmacSHA256"));
        byte[] prk = mac.doFinal(ikm);
        mac.init(new SecretKeySpec(prk, "HmacSHA256"));
        mac.update(INFO);
        mac.update((byte) 1);
        return mac.doFinal();
    }

    /** Whether {@code key} is an X25519 public key in base64url (a worker's {@code sealKey}). */
    public static boolean isKey(String key) {
        if (key == null) {
            return false;
        }
        try {
            decode(key);
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String encode(PublicKey key) {
        byte[] x509 = key.getEncoded();
        return Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOfRange(x509, x509.length - 32, x509.length));
    }

    private static PublicKey decode(String key) throws GeneralSecurityException {
        byte[] raw;
        try {
            raw = Base64.getUrlDecoder().decode(key);
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("not base64url", e);
        }
        if (raw.length != 32) {
            throw new GeneralSecurityException("an X25519 key is 32 bytes, not " + raw.length);
        }
        return KeyFactory.getInstance("X25519").generatePublic(new X509EncodedKeySpec(concat(X509_PREFIX, raw)));
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static byte[] hex(String s) {
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }
}
