package io.agora.worker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The bearer token of the worker's admin actions ({@code POST /drain}): the configured
 * {@code agora.worker.admin.token}, or else a fresh random one made at each start and written,
 * readable by the owner only, to {@code <stateDir>/admin.token}, where {@code worker drain}
 * finds it.
 */
public final class AdminToken {
    public static final String FILE = "admin.token";

    private AdminToken() {
    }

    public static String resolve(WorkerConfig cfg) {
        if (!cfg.adminToken().isBlank()) {
            return cfg.adminToken().trim();
        }
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        String token = HexFormat.of().formatHex(b);
        Path file = cfg.stateDir().resolve(FILE);
        try {
            Files.createDirectories(cfg.stateDir());
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, token + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the admin token to " + file, e);
        }
        return token;
    }

    /** The token {@code worker drain} sends: the configured one, else the one the running worker wrote. */
    public static String read(WorkerConfig cfg) throws IOException {
        if (!cfg.adminToken().isBlank()) {
            return cfg.adminToken().trim();
        }
        return Files.readString(cfg.stateDir().resolve(FILE), StandardCharsets.UTF_8).trim();
    }
}
