package io.agora.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import io.agora.events.DisputeReceipt;
import io.agora.events.Receipt;
import io.agora.events.ReceiptPayout;
import io.agora.events.SettlementReceipt;
import io.agora.events.SlashTaken;
import io.agora.schemas.Receipts;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code agora receipt <job>}: the job's receipt, signed by the market's key; with
 * {@code --verify}, checked offline against the market's public key (from a file, or asked of the
 * API), exit 1 when it does not hold.
 */
@Command(name = "receipt", description = {"The job's receipt, signed by the market: outcome, each payout, the refund, the escrow.",
        "With --verify, a decided dispute's receipt (its fee's payouts or refund, the workers slashed) is checked too,",
        "and an overturned dispute's settlement receipt (what each slash took: reclaimed, from the bond, the split).",
        "--verify checks the signature, the sums and the job id against the market's public key",
        "(--market-key FILE, e.g. the verifier's verifier-market.key.pub, or --key-from-api); exit 1 when it fails.",
        "--from FILE verifies a receipt saved earlier with -o json, without asking the API for it."})
final class ReceiptCommand extends AgoraCli.Base {
    @Parameters(index = "0", paramLabel = "JOB_ID")
    String jobId;

    @Option(names = "--verify", description = "verify the signature with the market's public key")
    boolean verify;

    @Option(names = "--market-key", paramLabel = "FILE",
            description = "file whose first line is the market's public key (base64url); --key is the API key")
    Path marketKeyFile;

    @Option(names = "--key-from-api", description = "take the market's public key from GET /api/v1/market/key")
    boolean keyFromApi;

    @Option(names = "--from", paramLabel = "FILE", description = "read the receipt (JSON, as -o json prints it) from a file")
    Path from;

    @Override
    public Integer call() throws Exception {
        JsonNode node = from != null ? ApiClient.JSON.readTree(Files.readString(from, StandardCharsets.UTF_8))
                : client().get(JobCommands.jobPath(jobId) + "/receipt");
        Receipt receipt;
        try {
            receipt = Receipts.fromMap(ApiClient.JSON.convertValue(node, new TypeReference<Map<String, Object>>() { }));
        } catch (IllegalArgumentException e) {
            err().println("receipt of job " + jobId + " cannot be read: " + e.getMessage());
            return Exit.NOT_COMPLETED;
        }
        if (!verify) {
            show(receipt, node, null);
            return Exit.OK;
        }
        String marketKey;
        if (marketKeyFile != null && keyFromApi) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give --market-key FILE or --key-from-api, not both");
        } else if (marketKeyFile != null) {
            marketKey = Receipts.readPublicKey(marketKeyFile);
        } else if (keyFromApi) {
            marketKey = client().get("/api/v1/market/key").path("publicKey").asText();
        } else {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--verify needs the market's public key: --market-key FILE or --key-from-api");
        }
        List<String> problems = new java.util.ArrayList<>(Receipts.problems(receipt, marketKey));
        if (!receipt.getJobId().equals(jobId)) {
            problems.add("the receipt is for job " + receipt.getJobId() + ", not " + jobId);
        }
        JsonNode dispute = from != null ? null : stored("/dispute-receipt");
        List<String> disputeProblems = dispute == null ? List.of() : disputeProblems(dispute, marketKey);
        attach(node, "disputeReceipt", dispute, disputeProblems);
        JsonNode settlement = dispute == null || !dispute.path("overturned").asBoolean() ? null : stored("/settlement-receipt");
        List<String> settlementProblems = settlement == null ? List.of() : settlementProblems(settlement, marketKey, dispute);
        attach(node, "settlementReceipt", settlement, settlementProblems);
        show(receipt, node, problems);
        if (dispute != null && !json()) {
            showDispute(dispute, disputeProblems);
            if (dispute.path("overturned").asBoolean()) {
                showSettlement(settlement, settlementProblems);
            }
        }
        return problems.isEmpty() && disputeProblems.isEmpty() && settlementProblems.isEmpty() ? Exit.OK : Exit.NOT_COMPLETED;
    }

    /** In JSON output, {@code receipt} (if any) under {@code field} of {@code node}, with whether it verified. */
    private void attach(JsonNode node, String field, JsonNode receipt, List<String> problems) {
        if (receipt != null && json()) {
            ((com.fasterxml.jackson.databind.node.ObjectNode) receipt).put("verified", problems.isEmpty())
                    .set("problems", ApiClient.JSON.valueToTree(problems));
            ((com.fasterxml.jackson.databind.node.ObjectNode) node).set(field, receipt);
        }
    }

    /** A receipt of the job's dispute ({@code GET <job><suffix>}), null when there is none (404). */
    private JsonNode stored(String suffix) throws Exception {
        try {
            return client().get(JobCommands.jobPath(jobId) + suffix);
        } catch (ApiClient.ApiError e) {
            if (e.status == 404) {
                return null;
            }
            throw e;
        }
    }

    /**
     * What is wrong with a settlement receipt: checked like the verdict's, and it must settle the slashes of exactly the
     * workers the dispute receipt names slashed.
     */
    private List<String> settlementProblems(JsonNode node, String marketKey, JsonNode dispute) {
        try {
            SettlementReceipt r = Receipts.settlementFromMap(ApiClient.JSON.convertValue(node, new TypeReference<Map<String, Object>>() { }));
            List<String> problems = new java.util.ArrayList<>(Receipts.problems(r, marketKey));
            if (!r.getJobId().equals(jobId)) {
                problems.add("the settlement receipt is for job " + r.getJobId() + ", not " + jobId);
            }
            java.util.Set<String> slashed = new java.util.TreeSet<>();
            dispute.path("slashed").forEach(w -> slashed.add(w.asText()));
            java.util.Set<String> settled = new java.util.TreeSet<>(r.getSlashes().stream().map(SlashTaken::getWorkerId).toList());
            if (!settled.equals(slashed)) {
                problems.add("it settles the slashes of " + settled + " but the dispute receipt slashed " + slashed);
            }
            return problems;
        } catch (IllegalArgumentException e) {
            return List.of(e.getMessage());
        }
    }

    private void showSettlement(JsonNode node, List<String> problems) {
        PrintWriter out = out();
        if (node == null) {
            out.println("no settlement receipt yet: not every slash is booked");
            out.flush();
            return;
        }
        for (JsonNode t : node.path("slashes")) {
            out.println("slash of " + t.path("workerId").asText() + ": reclaimed " + t.path("reclaimMicros").asLong()
                    + ", from the bond " + t.path("slashedMicros").asLong() + " (client " + t.path("clientMicros").asLong()
                    + ", honest " + t.path("honestShares") + ", burned " + t.path("burnedMicros").asLong() + ")");
        }
        out.println(problems.isEmpty() ? "VERIFIED: the settlement receipt is signed by the market key, each slash's split is what it took"
                : "NOT VERIFIED (settlement receipt): " + String.join("; ", problems));
        out.flush();
    }

    /** What is wrong with a dispute receipt, checked like the verdict's: empty when it holds. */
    private List<String> disputeProblems(JsonNode node, String marketKey) {
        try {
            DisputeReceipt r = Receipts.disputeFromMap(ApiClient.JSON.convertValue(node, new TypeReference<Map<String, Object>>() { }));
            List<String> problems = new java.util.ArrayList<>(Receipts.problems(r, marketKey));
            if (!r.getJobId().equals(jobId)) {
                problems.add("the dispute receipt is for job " + r.getJobId() + ", not " + jobId);
            }
            return problems;
        } catch (IllegalArgumentException e) {
            return List.of(e.getMessage());
        }
    }

    private void showDispute(JsonNode node, List<String> problems) {
        PrintWriter out = out();
        out.println("dispute " + (node.path("overturned").asBoolean() ? "overturned" : "upheld") + " on "
                + node.path("decidedHash").asText() + ": fee " + node.path("feeMicros").asLong() + ", refunded "
                + node.path("feeRefundMicros").asLong() + ", slashed " + node.path("slashed"));
        for (JsonNode p : node.path("feePayouts")) {
            out.println("fee payout " + p.path("micros").asLong() + " to " + p.path("workerId").asText());
        }
        out.println(problems.isEmpty() ? "VERIFIED: the dispute receipt is signed by the market key, fee payouts + refund = fee"
                : "NOT VERIFIED (dispute receipt): " + String.join("; ", problems));
        out.flush();
    }

    private void show(Receipt r, JsonNode node, List<String> problems) throws Exception {
        if (json()) {
            if (problems != null) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) node).put("verified", problems.isEmpty())
                        .set("problems", ApiClient.JSON.valueToTree(problems));
            }
            print(node);
            return;
        }
        PrintWriter out = out();
        Table.record(out, "job", r.getJobId(), "client", r.getClientId(), "outcome", r.getOutcome(),
                "agreed hash", r.getAgreedHash(), "escrow", r.getEscrowMicros(), "refund", r.getRefundMicros(),
                "issued", r.getIssuedAt(), "market key", r.getMarketKey());
        for (ReceiptPayout p : r.getPayouts()) {
            out.println("payout " + p.getMicros() + " to " + p.getWorkerId());
        }
        if (problems != null) {
            out.println(problems.isEmpty() ? "VERIFIED: signed by the market key, payouts + refund = escrow"
                    : "NOT VERIFIED: " + String.join("; ", problems));
        }
        out.flush();
    }
}
