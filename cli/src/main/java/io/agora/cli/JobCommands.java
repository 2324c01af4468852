package io.agora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;

/** One job's commands: describe it, cancel or dispute it, fetch its agreed output. */
final class JobCommands {
    private JobCommands() {
    }

    static String jobPath(String jobId) {
        return "/api/v1/jobs/" + ApiClient.segment(jobId);
    }

    /** A job as a key/value block, its output (if any) below. */
    static void printJob(PrintWriter out, JsonNode job) {
        Table.record(out, "job", job.path("jobId"), "status", job.path("status"), "reason", job.path("reason"),
                "verdict", verdict(job), "pool", job.path("pool"), "exit code", job.path("exitCode"),
                "escrow", job.path("escrowMicros"), "cost", job.path("costMicros"), "refund", job.path("refundMicros"),
                "agreeing", job.path("agreeing"), "dissenting", job.path("dissenting"), "dispute", job.path("dispute"),
                "submitted", job.path("submittedAt"), "updated", job.path("updatedAt"));
        if (job.path("verdicts").size() > 1) { // the verdict, then its dispute: each step in order
            out.println("verdict history:");
            for (JsonNode step : job.path("verdicts")) {
                String hash = step.hasNonNull("consensusHash") ? " hash " + step.path("consensusHash").asText() : "";
                out.println("  " + step.path("at").asText() + "  " + step.path("step").asText()
                        + (step.hasNonNull("outcome") ? " " + step.path("outcome").asText() : "") + hash
                        + (step.hasNonNull("reason") ? "  (" + step.path("reason").asText() + ")" : ""));
            }
        }
        if (job.hasNonNull("output")) {
            out.println("output:");
            printText(out, job.path("output").asText());
        }
    }

    private static String verdict(JsonNode job) {
        String outcome = Table.text(job.path("outcome"));
        return job.hasNonNull("consensusHash") ? outcome + " (hash " + job.path("consensusHash").asText() + ")" : outcome;
    }

    static void printText(PrintWriter out, String text) {
        out.print(text);
        if (!text.endsWith("\n")) {
            out.println();
        }
        out.flush();
    }

    @Command(name = "describe", description = {"A job: status, verdict, cost and refund, agreeing and dissenting workers, and its events so far.",
            "Events come from the job's event stream, read for --events-ms at most; a finished job's stream holds none",
            "(one whose dispute is open: the dispute's, to its decision)."})
    static final class Describe extends AgoraCli.Base {
        @Parameters(index = "0", paramLabel = "JOB_ID")
        String jobId;
        @Option(names = "--events-ms", defaultValue = "1000", description = "how long to read the event stream (default: ${DEFAULT-VALUE})")
        long eventsMs;

        @Override
        public Integer call() throws Exception {
            JsonNode job = client().get(jobPath(jobId));
            ArrayNode events = ApiClient.JSON.createArrayNode();
            if (eventsMs > 0) {
                try {
                    client().stream(jobPath(jobId) + "/events", new AgoraCli.StoryEnd(),
                            e -> {
                                if (e.has("eventId")) {
                                    events.add(e);
                                }
                            }, Duration.ofMillis(eventsMs));
                } catch (java.io.IOException e) {
                    // the job itself was read: describe it without its events rather than not at all
                    err().println("events unavailable: " + e.getMessage());
                }
            }
            if (json()) {
                ObjectNode r = ApiClient.JSON.createObjectNode();
                r.set("job", job);
                r.set("events", events);
                print(r);
                return Exit.OK;
            }
            printJob(out(), job);
            out().println();
            if (events.isEmpty()) {
                out().println("events so far: none the API holds");
                return Exit.OK;
            }
            Table t = new Table("TIME", "EVENT", "WORKER", "REPLICA", "ATTEMPT", "REASON");
            for (JsonNode e : events) {
                t.row(e.path("timestamp"), e.path("type"), AgoraCli.Workers.abbreviate(Table.text(e.path("workerId"))),
                        e.path("replica"), e.path("attempt"), e.path("reason"));
            }
            t.print(out());
            return Exit.OK;
        }
    }

    @Command(name = "executions", description = {"A job's executions: each replica's attempts, the worker, when it was",
            "assigned, started and ended, its outcome, and why a replica moved to another worker."})
    static final class Executions extends AgoraCli.Base {
        @Parameters(index = "0", paramLabel = "JOB_ID")
        String jobId;

        @Override
        public Integer call() throws Exception {
            JsonNode r = client().get(jobPath(jobId) + "/executions");
            if (json()) {
                print(r);
                return Exit.OK;
            }
            Table t = new Table("REPLICA", "ATTEMPT", "WORKER", "ASSIGNED", "STARTED", "ENDED", "OUTCOME", "WHY");
            for (JsonNode x : r.path("executions")) {
                String why = x.hasNonNull("endReason") ? "moved: " + x.path("endReason").asText()
                        : x.hasNonNull("assignedBecause") ? "moved here: " + x.path("assignedBecause").asText() : null;
                t.row(x.path("replica"), x.path("attempt"), AgoraCli.Workers.abbreviate(Table.text(x.path("workerId"))),
                        x.path("assignedAt"), x.path("startedAt"), x.path("endedAt"),
                        x.hasNonNull("outcome") ? x.path("outcome").asText() : "running", why);
            }
            t.print(out());
            return Exit.OK;
        }
    }

    @Command(name = "cancel", description = "Cancel a job: its escrow is refunded for what did not run.")
    static final class Cancel extends AgoraCli.Base {
        @Parameters(index = "0", paramLabel = "JOB_ID")
        String jobId;

        @Override
        public Integer call() throws Exception {
            JsonNode r = client().send("DELETE", jobPath(jobId), null, null);
            if (json()) {
                print(r);
            } else {
                out().println(jobId + " " + r.path("status").asText("cancel-requested"));
            }
            return Exit.OK;
        }
    }

    @Command(name = "dispute", description = "Dispute a job's verdict: the market re-verifies it.")
    static final class Dispute extends AgoraCli.Base {
        @Parameters(index = "0", paramLabel = "JOB_ID")
        String jobId;
        @Option(names = "--reason", description = "why (default: disputed by client)")
        String reason;

        @Override
        public Integer call() throws Exception {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            if (reason != null) {
                body.put("reason", reason);
            }
            JsonNode r = client().send("POST", jobPath(jobId) + "/dispute", body, null);
            if (json()) {
                print(r);
            } else {
                out().println(jobId + " " + r.path("status").asText("dispute-requested"));
            }
            return Exit.OK;
        }
    }

    @Command(name = "output", description = {"The job's agreed output, as is (-o json: {jobId, output}).",
            "Exit 3 when the job has none (yet): not completed or no consensus."})
    static final class Output extends AgoraCli.Base {
        @Parameters(index = "0", paramLabel = "JOB_ID")
        String jobId;

        @Override
        public Integer call() throws Exception {
            String text = client().text(jobPath(jobId) + "/output");
            if (json()) {
                print(ApiClient.JSON.createObjectNode().put("jobId", jobId).put("output", text));
            } else {
                out().print(text);
                out().flush();
            }
            return Exit.OK;
        }
    }
}
