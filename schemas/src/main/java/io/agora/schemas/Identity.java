package io.agora.schemas;

import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A worker's Ed25519 identity. The private key is stored as base64 of its 32-byte seed in a
 * file readable only by its owner; the public key, base64url-encoded, is the worker id.
 */
public record Identity(Ed25519PrivateKeyParameters privateKey, String workerId) {

    public static Identity generate() {
        Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(new SecureRandom());
        return new Identity(key, Signatures.workerId(key));
    }

    /** Loads the key at {@code file}, creating it with owner-only permissions on first use. */
    public static Identity loadOrCreate(Path file) {
        try {
            if (Files.exists(file)) {
                byte[] seed = Base64.getDecoder().decode(Files.readString(file, StandardCharsets.US_ASCII).trim());
                Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(seed, 0);
                return new Identity(key, Signatures.workerId(key));
            }
            Identity id = generate();
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, Base64.getEncoder().encodeToString(id.privateKey().getEncoded()) + "\n");
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create worker key " + file, e);
        }
    }
}
