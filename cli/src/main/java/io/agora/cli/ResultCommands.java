package io.agora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.agora.artifacts.Sha256;
import io.agora.artifacts.VerifiedInputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** What a decided job gave back: its files ({@code get}) and its logs ({@code logs}). */
final class ResultCommands {
    private ResultCommands() {
    }

    @Command(name = "get", description = {"Download the agreed result's files of a job into a folder (each checked against its agreed SHA-256).",
            "Files the job wrote under /outputs land under DIR/outputs. Exit 3 before the verdict.",
            "Here -o names the folder (agora get JOB -o DIR); the output format is --format."})
    static final class Get extends AgoraCli.Base {
        @Parameters(index = "0", paramLabel = "JOB_ID")
        String jobId;

        /** Also {@code -o}: {@link #takeDashO}. */
        @Option(names = {"--output-dir", "-d", "--dir"}, paramLabel = "DIR", description = "where to put them (default: ./JOB_ID)")
        Path dir;

        /**
         * Gives {@code -o} to the folder, as {@code agora get <job> -o DIR} reads: picocli refuses a subcommand
         * option named like an inherited one, so get's copy of the global {@code -o/--format} keeps only
         * {@code --format} and the folder option takes {@code -o} ({@code agora -o json get <job> -o DIR} still
         * sets both). Every other command keeps {@code -o} for the format.
         */
        static void takeDashO(picocli.CommandLine get) {
            CommandSpec spec = get.getCommandSpec();
            OptionSpec format = spec.findOption("--format");
            OptionSpec folder = spec.findOption("--output-dir");
            spec.remove(format);
            spec.remove(folder);
            spec.addOption(OptionSpec.builder(format).names("--format").build());
            spec.addOption(OptionSpec.builder(folder).names("-o", "--output-dir", "-d", "--dir").build());
        }

        @Override
        public Integer call() throws Exception {
            Path into = dir != null ? dir : Path.of(jobId);
            JsonNode list = client().get(JobCommands.jobPath(jobId) + "/files");
            int saved = 0;
            for (JsonNode f : list.path("files")) {
                String path = f.path("path").asText();
                String sha = f.path("sha256").asText();
                if (!Sha256.valid(sha)) {
                    err().println("skipped " + path + ": no content (" + sha + ")");
                    continue;
                }
                Path target = target(into, path);
                Files.createDirectories(target.getParent());
                Path part = target.resolveSibling(target.getFileName() + ".part");
                try (InputStream in = new VerifiedInputStream(client().open(JobCommands.jobPath(jobId) + "/files"
                        + encodePath(path)), sha)) {
                    Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    Files.deleteIfExists(part);
                    throw e;
                }
                Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                if (!json()) {
                    out().println(target + "  " + sha);
                }
                saved++;
            }
            if (json()) {
                print(ApiClient.JSON.createObjectNode().put("jobId", jobId).put("dir", into.toString()).put("files", saved)
                        .set("listed", list.path("files")));
            } else if (saved == 0) {
                err().println("job " + jobId + " has no files");
            }
            return Exit.OK;
        }
    }

    @Command(name = "logs", description = {"A decided job's stdout (to stdout) and stderr (to stderr), from the replica whose output was served;",
            "a note on stderr says when the worker cut either. -o json: {jobId, outcome, stdout, stdoutTruncated, stderr, stderrTruncated}."})
    static final class Logs extends AgoraCli.Base {
        @Parameters(index = "0", paramLabel = "JOB_ID")
        String jobId;

        @Override
        public Integer call() throws Exception {
            JsonNode logs = client().get(JobCommands.jobPath(jobId) + "/logs");
            if (json()) {
                print(logs);
                return Exit.OK;
            }
            out().print(logs.path("stdout").asText(""));
            out().flush();
            err().print(logs.path("stderr").asText(""));
            if (logs.path("stdoutTruncated").asBoolean()) {
                err().println("[agora: stdout was cut at the worker's cap]");
            }
            if (logs.path("stderrTruncated").asBoolean()) {
                err().println("[agora: stderr was cut at the worker's cap]");
            }
            err().flush();
            return Exit.OK;
        }
    }

    /**
     * Where a result file's path lands under {@code dir}: its path without the leading '/', refused
     * when it would leave {@code dir} (a path is the worker's report, bounded by the verifier, but
     * never trusted with the client's disk).
     */
    static Path target(Path dir, String path) {
        String rel = path.startsWith("/") ? path.substring(1) : path;
        Path base = dir.toAbsolutePath().normalize();
        Path t = base.resolve(rel).normalize();
        if (rel.isEmpty() || !t.startsWith(base) || t.equals(base)) {
            throw new IllegalArgumentException("result file path " + path + " would leave " + dir);
        }
        return t;
    }

    static String encodePath(String path) {
        StringBuilder sb = new StringBuilder();
        for (String seg : (path.startsWith("/") ? path.substring(1) : path).split("/", -1)) {
            sb.append('/').append(ApiClient.segment(seg));
        }
        return sb.toString();
    }
}
