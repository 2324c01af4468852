package io.agora.ingest.files;

import io.micronaut.serde.annotation.Serdeable;
import jakarta.inject.Singleton;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a job's verdict gives back beyond its status, as the ledger sink keeps it: the served
 * replica's stdout and stderr ({@code agora.verdicts}) and the agreed result's files
 * ({@code agora.verdict_files}: path and SHA-256; the bytes are in the artifact store). Read only;
 * the caller has already checked that the job is the client's.
 */
@Singleton
public class JobResults {
    private final DataSource dataSource;

    public JobResults(DataSource dataSource) {
        this.dataSource = io.micronaut.data.connection.jdbc.advice.DelegatingDataSource.unwrapDataSource(dataSource);
    }

    /** A job's logs: stdout and stderr of the replica whose output was served, each flagged when the worker cut it. */
    @Serdeable
    public record Logs(String jobId, String outcome, String stdout, boolean stdoutTruncated, String stderr,
                       boolean stderrTruncated) {
    }

    /** One file of the agreed result. */
    @Serdeable
    public record ResultFile(String path, String sha256) {
    }

    /** The verdict's logs; empty before the verdict. */
    public Optional<Logs> logs(String jobId) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("""
                     SELECT outcome, output, output_truncated, stderr, stderr_truncated FROM agora.verdicts WHERE job_id = ?""")) {
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next()
                        ? Optional.of(new Logs(jobId, rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getString(4),
                        rs.getBoolean(5)))
                        : Optional.empty();
            }
        } catch (SQLException e) {
            throw failed(e);
        }
    }

    /** The agreed result's files in path order; empty when the job has no verdict or none were agreed. */
    public List<ResultFile> files(String jobId) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT path, sha256 FROM agora.verdict_files WHERE job_id = ? ORDER BY path")) {
            ps.setString(1, jobId);
            List<ResultFile> files = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    files.add(new ResultFile(rs.getString(1), rs.getString(2)));
                }
            }
            return files;
        } catch (SQLException e) {
            throw failed(e);
        }
    }

    private static IllegalStateException failed(SQLException e) {
        return new IllegalStateException("job results query failed: " + e.getMessage(), e);
    }
}
