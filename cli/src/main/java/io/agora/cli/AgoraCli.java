package io.agora.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/** The {@code agora} command line: a client of ingest-api's HTTP API. */
@Command(name = "agora", mixinStandardHelpOptions = true, version = "agora 0.1.0",
        description = "Submit and follow jobs on the Agora compute market.",
        subcommands = {AgoraCli.Submit.class, AgoraCli.Watch.class, AgoraCli.ListJobs.class, AgoraCli.Workers.class, AgoraCli.Match.class,
                AgoraCli.Balance.class, AgoraCli.Keys.class, MarketCommands.Audit.class, MarketCommands.Analytics.class})
public final class AgoraCli {
    static final Set<String> TERMINAL = Set.of("COMPLETED", "FAILED", "NO_CONSENSUS", "EXPIRED", "CANCELLED", "REJECTED");

    @Option(names = "--api", defaultValue = "${env:AGORA_API:-http://localhost:8080}", scope = CommandLine.ScopeType.INHERIT,
            description = "ingest-api base URL (default: ${DEFAULT-VALUE})")
    String api;

    @Option(names = "--key", defaultValue = "${env:AGORA_API_KEY}", scope = CommandLine.ScopeType.INHERIT,
            description = "API key (default: env AGORA_API_KEY)")
    String key;

    public static void main(String[] args) {
        quietLogging();
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /**
     * Reports own stdout: library logging (Kafka clients, the sink's replay code) goes to stderr and
     * only from WARN. Configured here rather than by a logback.xml, which would be ambiguous with the
     * one the ledger-sink jar carries (INFO to stdout, for the sink).
     */
    static void quietLogging() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
            return;
        }
        ctx.reset();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(ctx);
        encoder.setPattern("%-5level %logger{36} - %msg%n");
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(ctx);
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.WARN);
        root.addAppender(stderr);
        // the replay readers assign and drop partitions on purpose; the serdes warn about a
        // deliberate id-handler choice: neither is news to the person reading a report
        ctx.getLogger("org.apache.kafka").setLevel(Level.ERROR);
        ctx.getLogger("io.apicurio").setLevel(Level.ERROR);
    }

    /** Runs one command; returns the exit code (0 ok, 1 API error or audit findings, 2 usage or could not run). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new AgoraCli());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println(e instanceof ApiClient.ApiError ? e.getMessage() : "error: " + e);
            return 1;
        });
        return cl.execute(args);
    }

    ApiClient client() {
        return new ApiClient(api, key);
    }

    abstract static class Base implements Callable<Integer> {
        @CommandLine.ParentCommand
        AgoraCli root;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        void print(JsonNode node) throws Exception {
            out().println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
        }
    }

    @Command(name = "submit", description = "Submit a job; prints its id.")
    static final class Submit extends Base {
        @Option(names = "--image", required = true, description = "container image")
        String image;
        @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "command and arguments (after --)")
        List<String> command;
        @Option(names = "-n", description = "redundancy: replicas to run (default 3)")
        Integer n;
        @Option(names = "-k", description = "quorum: agreeing results needed (default 2)")
        Integer k;
        @CommandLine.Mixin
        JobShape shape = new JobShape();
        @Option(names = "--strategy", description = "first|majority|k-of-n|reputation-weighted|adaptive")
        String strategy;
        @Option(names = "--idempotency-key", description = "retrying with the same key gives the same job")
        String idempotencyKey;
        @Option(names = "--wait", description = "follow the job until it ends")
        boolean waitForEnd;

        @Override
        public Integer call() throws Exception {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("image", image);
            body.set("command", ApiClient.JSON.valueToTree(command));
            if (n != null) {
                body.put("redundancy", n);
            }
            if (k != null) {
                body.put("quorum", k);
            }
            if (strategy != null) {
                body.put("strategy", strategy);
            }
            shape.applyTo(body);
            JsonNode r = root.client().send("POST", "/api/v1/jobs", body, idempotencyKey);
            String jobId = r.path("jobId").asText();
            out().println(jobId);
            if (waitForEnd) {
                return Watch.follow(root.client(), jobId, out(), 1000);
            }
            return 0;
        }
    }

    @Command(name = "watch", description = "Follow a job until it ends (server-sent events, or polling with --poll).")
    static final class Watch extends Base {
        @Parameters(index = "0", paramLabel = "JOB_ID")
        String jobId;
        @Option(names = "--poll", description = "poll the status instead of streaming events")
        boolean poll;
        @Option(names = "--interval-ms", defaultValue = "1000")
        long intervalMs;

        @Override
        public Integer call() throws Exception {
            if (!poll) {
                try {
                    root.client().stream("/api/v1/jobs/" + jobId + "/events",
                            e -> TERMINAL.contains(e.path("type").asText()) || TERMINAL.contains(e.path("status").asText()),
                            e -> out().println(e.has("type") ? e.path("type").asText() + (e.hasNonNull("reason")
                                    ? " (" + e.path("reason").asText() + ")" : "") : "status " + e.path("status").asText()));
                } catch (ApiClient.ApiError e) {
                    throw e;
                } catch (Exception e) {
                    out().println("event stream unavailable (" + e.getMessage() + "), polling");
                }
            }
            return follow(root.client(), jobId, out(), intervalMs);
        }

        static int follow(ApiClient client, String jobId, PrintWriter out, long intervalMs) throws Exception {
            String last = null;
            while (true) {
                JsonNode job = client.get("/api/v1/jobs/" + jobId);
                String status = job.path("status").asText();
                if (!status.equals(last)) {
                    out.println("status " + status);
                    last = status;
                }
                if (TERMINAL.contains(status.toUpperCase(java.util.Locale.ROOT))) {
                    out.println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(job));
                    return status.equalsIgnoreCase("COMPLETED") ? 0 : 3;
                }
                Thread.sleep(intervalMs);
            }
        }
    }

    @Command(name = "list", description = "List your jobs.")
    static final class ListJobs extends Base {
        @Option(names = "--status")
        String status;
        @Option(names = "--limit", defaultValue = "20")
        int limit;
        @Option(names = "--offset", defaultValue = "0")
        int offset;

        @Override
        public Integer call() throws Exception {
            String q = "/api/v1/jobs?limit=" + limit + "&offset=" + offset + (status == null ? "" : "&status=" + status);
            for (JsonNode j : root.client().get(q).path("jobs")) {
                out().printf("%-36s  %-12s  %-10s  cost=%s%n", j.path("jobId").asText(), j.path("status").asText(),
                        j.path("pool").asText(), j.path("costMicros").asText());
            }
            return 0;
        }
    }

    @Command(name = "workers", description = "List workers (optionally of one pool) and the pool's health.")
    static final class Workers extends Base {
        @Option(names = "--pool")
        String pool;
        @Option(names = "--region")
        String region;
        @Option(names = "--status")
        String status;

        @Override
        public Integer call() throws Exception {
            StringBuilder q = new StringBuilder("/api/v1/workers?");
            if (pool != null) {
                q.append("pool=").append(pool).append('&');
            }
            if (region != null) {
                q.append("region=").append(region).append('&');
            }
            if (status != null) {
                q.append("status=").append(status);
            }
            for (JsonNode w : root.client().get(q.toString())) {
                out().printf("%-24s  %-8s  %-8s  %-10s  free=%s  price=%s  rep=%s%n", abbreviate(w.path("workerId").asText()),
                        w.path("pool").asText(), w.path("region").asText(), w.path("status").asText(),
                        w.path("freeSlots").asText(), w.path("pricePerCpuSecondMicros").asText(), w.path("reputation").asText());
            }
            if (pool != null) {
                print(root.client().get("/api/v1/pools/" + pool));
            }
            return 0;
        }

        static String abbreviate(String s) {
            return s.length() > 24 ? s.substring(0, 21) + "..." : s;
        }
    }

    /** What submit and match share: the price ceiling, the pool and the job's size and time limit. */
    static final class JobShape {
        @Option(names = "--max-price", required = true, description = "max micro-credits per cpu-second")
        long maxPrice;
        @Option(names = "--pool", description = "worker pool (default public)")
        String pool;
        @Option(names = "--cpus", description = "cpus of the job (default 1)")
        Double cpus;
        @Option(names = "--memory-mb", description = "memory of the job (default 128)")
        Integer memoryMb;
        @Option(names = "--timeout-ms", description = "wall-clock limit per replica")
        Long timeoutMs;
        @Option(names = "--gpus", description = "GPUs the container gets (workers with at least this many)")
        Integer gpus;

        void applyTo(ObjectNode body) {
            body.put("maxPricePerCpuSecondMicros", maxPrice);
            if (cpus != null) {
                body.put("cpus", cpus);
            }
            if (memoryMb != null) {
                body.put("memoryMb", memoryMb);
            }
            if (timeoutMs != null) {
                body.put("timeoutMs", timeoutMs);
            }
            if (gpus != null) {
                body.put("gpus", gpus);
            }
            if (pool != null) {
                body.withObject("requirements").put("pool", pool);
            }
        }
    }

    @Command(name = "match", description = "Which workers would take a job now (top-K with score, price, wait, explain), without submitting it.")
    static final class Match extends Base {
        @CommandLine.Mixin
        JobShape shape = new JobShape();
        @Option(names = "--region")
        String region;
        @Option(names = "--gpu-model")
        String gpuModel;
        @Option(names = "--tag", description = "a tag the worker must have (repeatable)")
        List<String> tags;
        @Option(names = "--capability", description = "an image or model the worker serves (repeatable; any of them)")
        List<String> capabilities;
        @Option(names = "--top-k", defaultValue = "5")
        int topK;

        @Override
        public Integer call() throws Exception {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            shape.applyTo(body);
            ObjectNode req = body.withObject("requirements");
            putIfSet(req, "region", region);
            putIfSet(req, "gpuModel", gpuModel);
            if (tags != null) {
                req.set("tagsAll", ApiClient.JSON.valueToTree(tags));
            }
            if (capabilities != null) {
                req.set("capabilitiesAny", ApiClient.JSON.valueToTree(capabilities));
            }
            JsonNode r = root.client().send("POST", "/api/v1/match?topK=" + topK, body, null);
            out().printf("pool %s: %s eligible now%n", r.path("pool").asText(), r.path("eligible").asText());
            for (JsonNode c : r.path("candidates")) {
                out().printf("%-24s  score=%s  price=%s  min/job=%s  wait=%s  eta=%s  %s%n",
                        Workers.abbreviate(c.path("workerId").asText()), c.path("score").asText(),
                        c.path("pricePerCpuSecondMicros").asText(), c.path("minPricePerJobMicros").asText(),
                        ms(c.path("estimatedWaitMs")), ms(c.path("etaMs")), c.path("explain").asText());
            }
            for (JsonNode e : r.path("excluded")) {
                out().printf("  left out %-24s  %s%n", Workers.abbreviate(e.path("workerId").asText()), e.path("reasons").asText());
            }
            return 0;
        }

        private static void putIfSet(ObjectNode node, String field, String value) {
            if (value != null) {
                node.put(field, value);
            }
        }

        private static String ms(JsonNode n) {
            return n.isNumber() ? n.asLong() + "ms" : "?";
        }
    }

    @Command(name = "balance", description = "Your balance, escrow and available credits.")
    static final class Balance extends Base {
        @Option(names = "--transactions", description = "also list recent transactions")
        boolean transactions;

        @Override
        public Integer call() throws Exception {
            print(root.client().get("/api/v1/accounts/me"));
            if (transactions) {
                print(root.client().get("/api/v1/accounts/me/transactions?limit=20"));
            }
            return 0;
        }
    }

    @Command(name = "keys", description = "Issue or revoke API keys (admin; --key is the admin token).",
            subcommands = {Keys.Issue.class, Keys.Revoke.class})
    static final class Keys {
        @CommandLine.ParentCommand
        AgoraCli root;

        /** A subcommand of {@code keys}: the API client of the root command, and its output. */
        abstract static class KeyCommand implements Callable<Integer> {
            @CommandLine.ParentCommand
            Keys keys;
            @CommandLine.Spec
            CommandLine.Model.CommandSpec spec;

            ApiClient client() {
                return keys.root.client();
            }

            PrintWriter out() {
                return spec.commandLine().getOut();
            }
        }

        @Command(name = "issue", description = "Issue a key for a client; the key is shown only this once.")
        static final class Issue extends KeyCommand {
            @Parameters(index = "0", paramLabel = "CLIENT_ID")
            String clientId;

            @Override
            public Integer call() throws Exception {
                JsonNode r = client().send("POST", "/api/v1/admin/clients/" + clientId + "/keys", null, null);
                out().println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r));
                return 0;
            }
        }

        @Command(name = "revoke", description = "Revoke a key by its id.")
        static final class Revoke extends KeyCommand {
            @Parameters(index = "0", paramLabel = "KEY_ID")
            String keyId;

            @Override
            public Integer call() throws Exception {
                client().send("DELETE", "/api/v1/admin/keys/" + keyId, null, null);
                out().println("revoked " + keyId);
                return 0;
            }
        }
    }
}
