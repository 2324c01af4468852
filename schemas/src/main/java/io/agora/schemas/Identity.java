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

    /**
     * A service's key that every instance must share (the market's, the matcher's), so it is
     * provisioned, not invented per instance: the file named by {@code fileConfig} (base64 of the
     * 32-byte seed, e.g. {@code head -c 32 /dev/urandom | base64}), refused when unreadable; unset,
     * {@code defaultFile} (under the app's state dir), created on first start (a single instance: the
     * dev stack, tests). The public key (base64url) is written beside it as {@code <file>.pub}.
     */
    public static Identity provisioned(AgoraConfig cfg, String fileConfig, Path defaultFile, String role) {
        Path file;
        if (cfg.find(fileConfig).filter(s -> !s.isBlank()).isPresent()) {
            file = Path.of(cfg.get(fileConfig, ""));
            if (!Files.isReadable(file)) {
                throw new IllegalStateException(fileConfig + " names " + file + ", which is not a readable file: every"
                        + " instance must sign with the one " + role + " key");
            }
        } else {
            file = defaultFile;
        }
        Identity key = loadOrCreate(file);
        Path pub = file.resolveSibling(file.getFileName() + ".pub");
        try {
            Files.writeString(pub, key.workerId() + "\n");
        } catch (IOException e) {
            if (!Files.exists(pub)) { // a read-only mount holds the key: the log and /health still say it
                org.slf4j.LoggerFactory.getLogger(Identity.class).warn("cannot write {}: {}", pub, e.toString());
            }
        }
        return key;
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
