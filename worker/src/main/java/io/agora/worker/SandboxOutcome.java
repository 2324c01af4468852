package io.agora.worker;

import io.agora.events.ResultStatus;
import io.agora.schemas.OutputHash;

import java.util.Map;

/**
 * What running one task produced. {@code stdout} holds the captured bytes (at most the stdout
 * cap), which together with the exit code and output file hashes form the canonical
 * {@link #outputHash()} that replicas vote with.
 */
public record SandboxOutcome(ResultStatus status, String reason, int exitCode,
                             byte[] stdout, boolean stdoutTruncated,
                             byte[] stderr, boolean stderrTruncated,
                             Map<String, String> fileHashes, long startedAt, long finishedAt) {

    public static SandboxOutcome failed(ResultStatus status, String reason, long startedAt, long finishedAt) {
        return new SandboxOutcome(status, reason, -1, new byte[0], false, new byte[0], false, Map.of(), startedAt, finishedAt);
    }

    public String outputHash() {
        return OutputHash.of(exitCode, stdout, fileHashes);
    }

    public long durationMs() {
        return Math.max(0, finishedAt - startedAt);
    }

    /** Only these outcomes carry a vote (see ARCHITECTURE "Results"). */
    public boolean votes() {
        return status == ResultStatus.SUCCEEDED || status == ResultStatus.FAILED_EXIT;
    }

    public SandboxOutcome withStdout(byte[] newStdout) {
        return new SandboxOutcome(status, reason, exitCode, newStdout, stdoutTruncated, stderr, stderrTruncated,
                fileHashes, startedAt, finishedAt);
    }
}
