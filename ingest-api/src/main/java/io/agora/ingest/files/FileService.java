package io.agora.ingest.files;

import io.agora.artifacts.ArtifactStore;
import io.agora.artifacts.Sha256;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.api.Problem;
import io.micronaut.http.HttpStatus;
import jakarta.inject.Singleton;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Files uploaded to the market: the bytes go to the {@link ArtifactStore} under their SHA-256,
 * the upload is recorded per owner ({@code ingest.files}: {@code client:<id>} or {@code worker:<id>}).
 * Uploading a file the owner already has is answered with the same file and costs no quota; a
 * client's distinct files may not pass {@link ArtifactSettings#clientQuotaBytes()} (checked under a
 * per-owner lock, so two parallel uploads cannot both slip under it). Bytes refused for the quota
 * are deleted from the store at once unless another owner holds them (under the SHA-256's lock, as
 * the sweep does): a refused upload leaves nothing behind.
 *
 * <p>Retention ({@link #sweep}): a row lives until {@code agora.artifacts.retention-hours} after its
 * last use (an upload, the same file uploaded again, a submitted job naming it as an input: {@link #touch});
 * the sweep deletes expired rows, then the bytes of each SHA-256 no row names any more. The bytes of one
 * SHA-256 are deleted and recorded under the same lock ({@code ingest.files.sha:<sha256>}), so an upload
 * never records a file whose bytes a sweep is removing.
 */
@Singleton
public class FileService {
    private final DataSource dataSource;
    private final ArtifactStore store;
    private final ArtifactSettings settings;

    public FileService(DataSource dataSource, ArtifactStore store, ArtifactSettings settings) {
        this.dataSource = io.micronaut.data.connection.jdbc.advice.DelegatingDataSource.unwrapDataSource(dataSource);
        this.store = store;
        this.settings = settings;
    }

    public static String clientOwner(String clientId) {
        return "client:" + clientId;
    }

    public static String workerOwner(String workerId) {
        return "worker:" + workerId;
    }

    /** An upload's answer: the file, and whether this upload created it for its owner. */
    public record Upload(StoredFile file, boolean created) {
    }

    /**
     * Stores {@code body} for {@code owner}; 413 past the size limit, or past the quota when
     * {@code quota} is set (clients; a worker's uploads are bounded by its own output caps).
     */
    public Upload upload(String owner, boolean quota, InputStream body, Long contentLength) {
        long max = settings.maxFileBytes();
        if (contentLength != null && contentLength > max) {
            throw tooLarge(max);
        }
        ArtifactStore.Artifact a;
        try {
            a = store.put(body, max);
        } catch (ArtifactStore.TooLarge e) {
            throw tooLarge(max);
        } catch (IOException e) {
            throw unavailable(e);
        }
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                lock(c, "ingest.files:" + owner);
                lock(c, SHA_LOCK + a.sha256());
                if (store.size(a.sha256()).isEmpty()) {
                    c.rollback(); // a sweep removed the bytes between the put and the lock
                    throw new IOException("artifact " + a.sha256() + " was swept while being uploaded: send it again");
                }
                Optional<StoredFile> existing = find(c, owner, a.sha256());
                if (existing.isPresent()) {
                    touch(c, owner, List.of(a.sha256()));
                    c.commit();
                    return new Upload(existing.get(), false);
                }
                if (quota) {
                    long used = used(c, owner);
                    if (used + a.size() > settings.clientQuotaBytes()) {
                        deleteUnnamed(c, a.sha256());
                        c.rollback();
                        throw new ApiException(HttpStatus.REQUEST_ENTITY_TOO_LARGE, "file quota exceeded: "
                                + used + " of " + settings.clientQuotaBytes() + " bytes used, this file has " + a.size(),
                                List.of(), Map.of("quotaBytes", settings.clientQuotaBytes(), "usedBytes", used,
                                "fileBytes", a.size()), null);
                    }
                }
                Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO ingest.files (owner, sha256, size_bytes, uploaded_at, used_at) VALUES (?, ?, ?, ?, ?)")) {
                    ps.setString(1, owner);
                    ps.setString(2, a.sha256());
                    ps.setLong(3, a.size());
                    ps.setTimestamp(4, Timestamp.from(now));
                    ps.setTimestamp(5, Timestamp.from(now));
                    ps.executeUpdate();
                }
                c.commit();
                return new Upload(new StoredFile(a.sha256(), a.size(), now.toString()), true);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (IOException e) {
            throw unavailable(e);
        } catch (SQLException e) {
            throw new IllegalStateException("recording upload failed: " + e.getMessage(), e);
        }
    }

    private static final String SHA_LOCK = "ingest.files.sha:";

    private static void lock(Connection c, String key) throws SQLException {
        try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
            lock.setString(1, key);
            lock.execute();
        }
    }

    /** Marks the owner's files used now (a job names them): retention counts from here. */
    public void touch(String owner, java.util.Collection<String> sha256s) {
        if (sha256s.isEmpty()) {
            return;
        }
        try (Connection c = dataSource.getConnection()) {
            touch(c, owner, sha256s);
        } catch (SQLException e) {
            throw new IllegalStateException("file update failed: " + e.getMessage(), e);
        }
    }

    private static void touch(Connection c, String owner, java.util.Collection<String> sha256s) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE ingest.files SET used_at = greatest(used_at, ?) WHERE owner = ? AND sha256 = ?")) {
            Timestamp now = Timestamp.from(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
            for (String sha : sha256s) {
                ps.setTimestamp(1, now);
                ps.setString(2, owner);
                ps.setString(3, sha);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** What one sweep did. */
    public record Swept(int rows, int artifacts) {
    }

    /**
     * Deletes the rows last used before {@code cutoff}, then the stored bytes of each SHA-256 no row
     * names any more (another owner's row, or a fresh upload, keeps them).
     */
    public Swept sweep(Instant cutoff) {
        java.util.Set<String> expired = new java.util.TreeSet<>();
        int rows = 0;
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM ingest.files WHERE used_at < ? RETURNING sha256")) {
            ps.setTimestamp(1, Timestamp.from(cutoff));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows++;
                    expired.add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("file sweep failed: " + e.getMessage(), e);
        }
        int artifacts = 0;
        for (String sha : expired) {
            try (Connection c = dataSource.getConnection()) {
                c.setAutoCommit(false);
                try {
                    lock(c, SHA_LOCK + sha);
                    if (deleteUnnamed(c, sha)) {
                        artifacts++;
                    }
                    c.commit();
                } catch (SQLException | IOException | RuntimeException e) {
                    c.rollback();
                    throw e;
                }
            } catch (SQLException | IOException e) {
                throw new IllegalStateException("file sweep failed at " + sha + ": " + e.getMessage(), e);
            }
        }
        return new Swept(rows, artifacts);
    }

    /**
     * Deletes the bytes of {@code sha256} when no row names them; the caller holds the SHA-256's lock.
     * True when the store held them.
     */
    private boolean deleteUnnamed(Connection c, String sha256) throws SQLException, IOException {
        try (PreparedStatement q = c.prepareStatement("SELECT 1 FROM ingest.files WHERE sha256 = ? LIMIT 1")) {
            q.setString(1, sha256);
            try (ResultSet rs = q.executeQuery()) {
                if (rs.next()) {
                    return false;
                }
            }
        }
        return store.delete(sha256);
    }

    /** The owner's file {@code sha256}; empty when it never uploaded it. */
    public Optional<StoredFile> owned(String owner, String sha256) {
        try (Connection c = dataSource.getConnection()) {
            return find(c, owner, sha256);
        } catch (SQLException e) {
            throw new IllegalStateException("file query failed: " + e.getMessage(), e);
        }
    }

    /** The bytes of {@code sha256}, verified as they are read; 404 when the store does not hold them. */
    public InputStream open(String sha256) {
        try {
            return store.open(sha256).orElseThrow(() -> ApiException.notFound("file " + sha256));
        } catch (IOException e) {
            throw unavailable(e);
        }
    }

    /** The bytes a client has used of its quota. */
    public long used(String owner) {
        try (Connection c = dataSource.getConnection()) {
            return used(c, owner);
        } catch (SQLException e) {
            throw new IllegalStateException("file query failed: " + e.getMessage(), e);
        }
    }

    /** The id itself when it is a SHA-256; else a 400 naming the field. */
    public static String checkSha256(String field, String sha256) {
        if (!Sha256.valid(sha256)) {
            throw ApiException.invalid(List.of(new Problem(field, "must be a SHA-256: 64 lower-case hex digits")));
        }
        return sha256;
    }

    private static Optional<StoredFile> find(Connection c, String owner, String sha256) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT size_bytes, uploaded_at FROM ingest.files WHERE owner = ? AND sha256 = ?")) {
            ps.setString(1, owner);
            ps.setString(2, sha256);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next()
                        ? Optional.of(new StoredFile(sha256, rs.getLong(1), rs.getTimestamp(2).toInstant().toString()))
                        : Optional.empty();
            }
        }
    }

    private static long used(Connection c, String owner) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(sum(size_bytes), 0) FROM ingest.files WHERE owner = ?")) {
            ps.setString(1, owner);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static ApiException tooLarge(long max) {
        return new ApiException(HttpStatus.REQUEST_ENTITY_TOO_LARGE, "file larger than " + max
                + " bytes (AGORA_ARTIFACTS_MAX_FILE_BYTES)", List.of(), Map.of("maxFileBytes", max), null);
    }

    private static ApiException unavailable(IOException e) {
        return new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "artifact store unavailable: " + e.getMessage(),
                List.of(), null, 5L);
    }
}
