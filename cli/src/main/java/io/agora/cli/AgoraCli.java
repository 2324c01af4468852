package io.agora.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.LoggerFactory;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;

/**
 * The {@code agora} command line: a client of ingest-api's HTTP API. Every command prints a table
 * for people or, with {@code -o json}, the API's answer for scripts; the exit codes are {@link Exit}'s.
 */
@Command(name = "agora", mixinStandardHelpOptions = true, version = "agora 0.1.0",
        description = "Submit and follow jobs on the Agora compute market.",
        subcommands = {AgoraCli.Submit.class, AgoraCli.Watch.class, JobCommands.Describe.class, JobCommands.Executions.class,
                AgoraCli.ListJobs.class,
                JobCommands.Cancel.class, JobCommands.Dispute.class, JobCommands.Output.class, ResultCommands.Get.class,
                ResultCommands.Logs.class, ReceiptCommand.class,
                AgoraCli.Workers.class, MarketStats.Earnings.class, AgoraCli.Match.class, MarketStats.Stats.class,
                AgoraCli.Balance.class, AgoraCli.Keys.class, AgoraCli.Deposit.class, AgoraCli.Completion.class,
                MarketCommands.Audit.class, MarketCommands.Analytics.class, MarketCommands.SettleDisputes.class})
public final class AgoraCli {
    static final Set<String> TERMINAL = Set.of("COMPLETED", "FAILED", "NO_CONSENSUS", "EXPIRED", "CANCELLED", "REJECTED");

    /** How a command prints its answer. */
    enum Format { TABLE, JSON }

    @Option(names = "--api", defaultValue = "${env:AGORA_API:-http://localhost:8080}", scope = CommandLine.ScopeType.INHERIT,
            description = "ingest-api base URL (default: ${DEFAULT-VALUE})")
    String api;

    @Option(names = "--key", defaultValue = "${env:AGORA_API_KEY}", scope = CommandLine.ScopeType.INHERIT,
            description = "API key (default: env AGORA_API_KEY)")
    String key;

    @Option(names = {"-o", "--format"}, defaultValue = "table", scope = CommandLine.ScopeType.INHERIT, paramLabel = "table|json",
            description = "table (for people; the default) or json (for scripts: the API's answer, one document); "
                    + "on get, -o is the folder and the format is --format only")
    Format format;

    /** Whether waits may draw a spinner on stderr: asked only when a command waits. */
    private final BooleanSupplier stderrIsTerminal;

    AgoraCli(BooleanSupplier stderrIsTerminal) {
        this.stderrIsTerminal = stderrIsTerminal;
    }

    public static void main(String[] args) {
        quietLogging();
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true), Progress::stderrIsTerminal));
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

    /** Runs one command without a progress spinner; returns the exit code ({@link Exit}). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return run(args, out, err, () -> false);
    }

    static int run(String[] args, PrintWriter out, PrintWriter err, BooleanSupplier stderrIsTerminal) {
        AgoraCli root = new AgoraCli(stderrIsTerminal);
        CommandLine cl = new CommandLine(root);
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        helpEverywhere(cl);
        ResultCommands.Get.takeDashO(cl.getSubcommands().get("get"));
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            int code = Exit.of(e);
            if (e instanceof ApiClient.ApiError) {
                cmd.getErr().println(e.getMessage());
            } else if (code == Exit.API_UNAVAILABLE) {
                cmd.getErr().println("cannot reach the API at " + root.api + ": " + e);
            } else {
                cmd.getErr().println("error: " + e);
            }
            return code;
        });
        return cl.execute(args);
    }

    /** Every command, however deep, answers --help, and its help ends with the exit codes. */
    private static void helpEverywhere(CommandLine cl) {
        cl.getCommandSpec().mixinStandardHelpOptions(true);
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(Exit.descriptions());
        cl.getSubcommands().values().forEach(AgoraCli::helpEverywhere);
    }

    ApiClient client() {
        return new ApiClient(api, key);
    }

    /** What every API command has: the client, stdout and stderr, the output format, a spinner for waits. */
    abstract static class Base implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        AgoraCli root() {
            return (AgoraCli) spec.root().userObject();
        }

        ApiClient client() {
            return root().client();
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        PrintWriter err() {
            return spec.commandLine().getErr();
        }

        boolean json() {
            return root().format == Format.JSON;
        }

        void print(JsonNode node) throws Exception {
            out().println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
        }

        Progress progress(String jobId) {
            return Progress.on(err(), root().stderrIsTerminal.getAsBoolean(), jobId);
        }
    }

    @Command(name = "submit", description = {"Submit a job; prints its id (with --wait: follows it and shows how it ended).",
            "The spec comes from flags, or from a JSON or YAML file (-f) with the HTTP body's fields, flags overriding it.",
            "--batch FILE: a JSON or YAML list of such specs (each may have its own idempotencyKey), flags overriding",
            "each; submitted in one request (all or none), prints the ids in the file's order."})
    static final class Submit extends Base {
        @CommandLine.Mixin
        JobSpecOptions job = new JobSpecOptions();
        @Parameters(arity = "0..*", paramLabel = "COMMAND", description = "command and arguments (after --); overrides the file's")
        List<String> command;
        @Option(names = "--idempotency-key", description = "retrying with the same key gives the same job")
        String idempotencyKey;
        @Option(names = "--wait", description = "follow the job until it ends; exit 0 only if it COMPLETED")
        boolean waitForEnd;
        @Option(names = "--input", paramLabel = "PATH=FILE", description = "upload FILE and give it to the job read-only"
                + " at /inputs/PATH (repeatable; added to the spec file's inputs)")
        Map<String, Path> inputs;
        @Option(names = "--batch", paramLabel = "FILE", description = "submit every job of FILE (a list of specs) in one"
                + " request; with --idempotency-key K, job i without its own key gets K-i")
        String batch;

        @Override
        public Integer call() throws Exception {
            if (batch != null) {
                return submitBatch();
            }
            ObjectNode body = job.body(command, spec.commandLine());
            if (inputs != null) {
                ArrayNode list = body.get("inputs") instanceof ArrayNode a ? a : body.putArray("inputs");
                for (var in : inputs.entrySet()) {
                    JsonNode stored = client().upload(in.getValue());
                    list.addObject().put("path", in.getKey()).put("sha256", stored.path("sha256").asText());
                }
            }
            JsonNode r = client().send("POST", "/api/v1/jobs", body, idempotencyKey);
            String jobId = r.path("jobId").asText();
            if (waitForEnd) {
                if (!json()) {
                    out().println(jobId);
                }
                return Watch.follow(this, jobId, false, 1000);
            }
            if (json()) {
                print(r);
            } else {
                out().println(jobId);
            }
            return Exit.OK;
        }

        /** {@code POST /api/v1/jobs/batch}: every job of the file, flags applied to each; the ids in order. */
        private int submitBatch() throws Exception {
            if (job.file != null || inputs != null || waitForEnd) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--batch takes its jobs from its file:"
                        + " not with -f, --input or --wait");
            }
            ArrayNode body = ApiClient.JSON.createArrayNode();
            for (ObjectNode j : JobSpecOptions.loadBatch(batch, spec.commandLine())) {
                ObjectNode one = job.apply(j, command);
                if (idempotencyKey != null && !one.has("idempotencyKey")) {
                    one.put("idempotencyKey", idempotencyKey + "-" + body.size());
                }
                body.add(one);
            }
            JsonNode r = client().send("POST", "/api/v1/jobs/batch", body, null);
            if (json()) {
                print(r);
            } else {
                for (JsonNode j : r.path("jobs")) {
                    out().println(j.path("jobId").asText());
                }
            }
            return Exit.OK;
        }
    }

    @Command(name = "watch", description = {"Follow a job until it ends (server-sent events, or polling with --poll).",
            "Exit 0 only if it COMPLETED. With -o json, prints the job as it ended."})
    static final class Watch extends Base {
        @Parameters(index = "0", paramLabel = "JOB_ID")
        String jobId;
        @Option(names = "--poll", description = "poll the status instead of streaming events")
        boolean poll;
        @Option(names = "--interval-ms", defaultValue = "1000")
        long intervalMs;

        @Override
        public Integer call() throws Exception {
            return follow(this, jobId, poll, intervalMs);
        }

        /**
         * Streams the job's events (printing each, as a table) unless {@code poll}, then polls its
         * status until it ends; shows the job as it ended. A spinner with the status runs on a
         * terminal's stderr meanwhile.
         */
        static int follow(Base cmd, String jobId, boolean poll, long intervalMs) throws Exception {
            PrintWriter out = cmd.out();
            try (Progress progress = cmd.progress(jobId)) {
                if (!poll) {
                    try {
                        cmd.client().stream("/api/v1/jobs/" + ApiClient.segment(jobId) + "/events", new StoryEnd(),
                                e -> {
                                    String line = e.has("type") ? e.path("type").asText() + (e.hasNonNull("reason")
                                            ? " (" + e.path("reason").asText() + ")" : "") : "status " + e.path("status").asText();
                                    progress.status(jobId, line);
                                    if (!cmd.json()) {
                                        progress.clear();
                                        out.println(line);
                                    }
                                });
                    } catch (ApiClient.ApiError e) {
                        throw e;
                    } catch (java.io.IOException e) {
                        progress.clear();
                        cmd.err().println("event stream unavailable (" + e.getMessage() + "), polling");
                    }
                }
                String last = null;
                while (true) {
                    JsonNode job = cmd.client().get("/api/v1/jobs/" + ApiClient.segment(jobId));
                    String status = job.path("status").asText();
                    if (!status.equals(last)) {
                        progress.status(jobId, status);
                        if (!cmd.json()) {
                            progress.clear();
                            out.println("status " + status);
                        }
                        last = status;
                    }
                    if (TERMINAL.contains(status.toUpperCase(java.util.Locale.ROOT)) && !disputeOpen(job)) {
                        progress.close();
                        if (cmd.json()) {
                            cmd.print(job);
                        } else {
                            JobCommands.printJob(out, job);
                        }
                        return Exit.ofStatus(status);
                    }
                    Thread.sleep(intervalMs);
                }
            }
        }
    }

    /** Whether the job (its state as the API shows it) has a dispute open: more is to come though it is terminal. */
    static boolean disputeOpen(JsonNode job) {
        return "opened".equals(job.path("dispute").asText());
    }

    /**
     * When a job's event stream has told the whole story: at a terminal state or event, or, for a job whose
     * dispute was open when the stream began, at the DISPUTED event that decides it (overturned, upheld).
     */
    static final class StoryEnd implements java.util.function.Predicate<JsonNode> {
        private boolean disputed;

        @Override
        public boolean test(JsonNode e) {
            if (!e.has("type")) { // the job's state, sent first
                disputed = disputeOpen(e);
                return TERMINAL.contains(e.path("status").asText()) && !disputed;
            }
            String type = e.path("type").asText();
            if (!disputed) {
                return TERMINAL.contains(type);
            }
            String reason = e.path("reason").asText();
            return type.equals("DISPUTED") && (reason.startsWith("overturned") || reason.startsWith("upheld"));
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
            String q = "/api/v1/jobs?limit=" + limit + "&offset=" + offset + (status == null ? "" : "&status=" + ApiClient.segment(status));
            JsonNode r = client().get(q);
            if (json()) {
                print(r);
                return Exit.OK;
            }
            Table t = new Table("JOB", "STATUS", "POOL", "COST", "SUBMITTED");
            for (JsonNode j : r.path("jobs")) {
                t.row(j.path("jobId"), j.path("status"), j.path("pool"), j.path("costMicros"), j.path("submittedAt"));
            }
            t.print(out());
            return Exit.OK;
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
            StringBuilder q = new StringBuilder("/api/v1/workers");
            String sep = "?";
            for (String[] p : new String[][] {{"pool", pool}, {"region", region}, {"status", status}}) {
                if (p[1] != null) {
                    q.append(sep).append(p[0]).append('=').append(ApiClient.segment(p[1]));
                    sep = "&";
                }
            }
            JsonNode workers = client().get(q.toString());
            JsonNode health = pool == null ? null : client().get("/api/v1/pools/" + ApiClient.segment(pool));
            if (json()) {
                ObjectNode r = ApiClient.JSON.createObjectNode();
                r.set("workers", workers);
                r.set("pool", health == null ? ApiClient.JSON.nullNode() : health);
                print(r);
                return Exit.OK;
            }
            Table t = new Table("WORKER", "POOL", "REGION", "STATUS", "FREE", "PRICE", "REP");
            for (JsonNode w : workers) {
                t.row(abbreviate(w.path("workerId").asText()), w.path("pool"), w.path("region"), w.path("status"),
                        w.path("freeSlots"), w.path("pricePerCpuSecondMicros"), w.path("reputation"));
            }
            if (t.size() > 0) {
                t.print(out());
            }
            if (health != null) {
                out().println();
                MarketStats.printPools(out(), List.of(health));
            }
            return Exit.OK;
        }

        static String abbreviate(String s) {
            return s.length() > 24 ? s.substring(0, 21) + "..." : s;
        }
    }

    @Command(name = "match", description = {"Which workers would take a job now (top-K with score, price, wait, explain), without submitting it.",
            "Takes the same spec as submit (flags or -f); image and command may be left out."})
    static final class Match extends Base {
        @CommandLine.Mixin
        JobSpecOptions job = new JobSpecOptions();
        @Option(names = "--top-k", defaultValue = "5")
        int topK;

        @Override
        public Integer call() throws Exception {
            JsonNode r = client().send("POST", "/api/v1/match?topK=" + topK, job.body(null, spec.commandLine()), null);
            if (json()) {
                print(r);
                return Exit.OK;
            }
            out().printf("pool %s: %s eligible now%n", r.path("pool").asText(), r.path("eligible").asText());
            for (JsonNode c : r.path("candidates")) {
                out().printf("%-24s  score=%s  price=%s  min/job=%s  replica<=%s  wait=%s  eta=%s  %s%n",
                        Workers.abbreviate(c.path("workerId").asText()), c.path("score").asText(),
                        c.path("pricePerCpuSecondMicros").asText(), c.path("minPricePerJobMicros").asText(),
                        replicaCost(c.path("replicaCostAtTimeout")),
                        ms(c.path("estimatedWaitMs")), ms(c.path("etaMs")), c.path("explain").asText());
            }
            for (JsonNode e : r.path("excluded")) {
                out().printf("  left out %-24s  %s%n", Workers.abbreviate(e.path("workerId").asText()), e.path("reasons").asText());
            }
            return Exit.OK;
        }

        private static String ms(JsonNode n) {
            return n.isNumber() ? n.asLong() + "ms" : "?";
        }

        /** One replica's cost over the whole timeout: the total, then cpu/GPU/memory; ? when not given. */
        private static String replicaCost(JsonNode n) {
            return !n.path("totalMicros").isNumber() ? "?" : n.path("totalMicros").asText() + " (cpu "
                    + n.path("cpuMicros").asText() + " gpu " + n.path("gpuMicros").asText() + " mem "
                    + n.path("memoryMicros").asText() + ")";
        }
    }

    @Command(name = "balance", description = "Your balance, escrow and available credits.")
    static final class Balance extends Base {
        @Option(names = "--transactions", description = "also list recent transactions (with -o json: {account, transactions})")
        boolean transactions;

        @Override
        public Integer call() throws Exception {
            JsonNode account = client().get("/api/v1/accounts/me");
            JsonNode tx = transactions ? client().get("/api/v1/accounts/me/transactions?limit=20") : null;
            if (json()) {
                if (tx == null) {
                    print(account);
                } else {
                    ObjectNode r = ApiClient.JSON.createObjectNode();
                    r.set("account", account);
                    r.set("transactions", tx);
                    print(r);
                }
                return Exit.OK;
            }
            Table.record(out(), "client", account.path("clientId"), "balance", account.path("balanceMicros"),
                    "held", account.path("heldMicros"), "available", account.path("availableMicros"),
                    "starter grant", account.path("pendingStarterGrantMicros"));
            if (tx != null) {
                out().println();
                Table t = new Table("TIME", "KIND", "JOB", "TRANSACTION", "MEMO");
                for (JsonNode x : tx.path("transactions")) {
                    t.row(x.path("timestamp"), x.path("kind"), x.path("jobId"), x.path("transactionId"), x.path("memo"));
                }
                t.print(out());
            }
            return Exit.OK;
        }
    }

    @Command(name = "keys", description = "Issue or revoke API keys (admin; --key is the admin token).",
            subcommands = {Keys.Issue.class, Keys.Revoke.class})
    static final class Keys {
        @Command(name = "issue", description = "Issue a key for a client; the key is shown only this once.")
        static final class Issue extends Base {
            @Parameters(index = "0", paramLabel = "CLIENT_ID")
            String clientId;

            @Override
            public Integer call() throws Exception {
                JsonNode r = client().send("POST", "/api/v1/admin/clients/" + ApiClient.segment(clientId) + "/keys", null, null);
                if (json()) {
                    print(r);
                } else {
                    Table.record(out(), "client", r.path("clientId"), "key id", r.path("keyId"), "api key", r.path("apiKey"));
                }
                return Exit.OK;
            }
        }

        @Command(name = "revoke", description = "Revoke a key by its id.")
        static final class Revoke extends Base {
            @Parameters(index = "0", paramLabel = "KEY_ID")
            String keyId;

            @Override
            public Integer call() throws Exception {
                JsonNode r = client().send("DELETE", "/api/v1/admin/keys/" + ApiClient.segment(keyId), null, null);
                if (json()) {
                    print(r);
                } else {
                    out().println("revoked " + keyId);
                }
                return Exit.OK;
            }
        }
    }

    @Command(name = "deposit", description = {"Credit a client's account (admin; --key is the admin token).",
            "The deposit carries an Idempotency-Key (generated when not given): the API books a key once, so the "
                    + "retries this command makes on a lost connection or a 5xx, and any rerun with the same key, deposit once."})
    static final class Deposit extends Base {
        @Parameters(index = "0", paramLabel = "CLIENT_ID")
        String clientId;
        @Parameters(index = "1", paramLabel = "AMOUNT_MICROS", description = "micro-credits to deposit")
        long amountMicros;
        @Option(names = "--memo", description = "what the deposit is for (on the statement)")
        String memo;
        @Option(names = "--idempotency-key", description = "names the deposit; default: a new random one, printed")
        String idempotencyKey;
        @Option(names = "--retries", defaultValue = "2", description = "retries on a lost connection or a 5xx (default: ${DEFAULT-VALUE})")
        int retries;

        @Override
        public Integer call() throws Exception {
            String idem = idempotencyKey != null ? idempotencyKey : UUID.randomUUID().toString();
            ObjectNode body = ApiClient.JSON.createObjectNode().put("amountMicros", amountMicros);
            if (memo != null) {
                body.put("memo", memo);
            }
            String path = "/api/v1/admin/clients/" + ApiClient.segment(clientId) + "/deposits";
            JsonNode receipt = null;
            for (int attempt = 0; receipt == null; attempt++) {
                try {
                    receipt = client().send("POST", path, body, idem);
                } catch (java.io.IOException e) {
                    if (Exit.of(e) != Exit.API_UNAVAILABLE || attempt >= retries) {
                        throw e;
                    }
                    err().println("deposit not confirmed (" + e.getMessage() + "); retrying with idempotency key " + idem);
                    Thread.sleep(500L << attempt);
                }
            }
            if (json()) {
                ObjectNode r = receipt.isObject() ? (ObjectNode) receipt : ApiClient.JSON.createObjectNode();
                r.put("idempotencyKey", idem);
                print(r);
            } else {
                Table.record(out(), "client", receipt.path("clientId"), "deposited", receipt.path("amountMicros"),
                        "transaction", receipt.path("transactionId"), "idempotency key", idem);
            }
            return Exit.OK;
        }
    }

    @Command(name = "completion", description = {"Print a bash completion script for agora.",
            "Install: agora completion > /etc/bash_completion.d/agora (or: source <(agora completion))"})
    static final class Completion implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getOut().print(AutoComplete.bash(spec.root().name(), spec.root().commandLine()));
            spec.commandLine().getOut().flush();
            return Exit.OK;
        }
    }
}
