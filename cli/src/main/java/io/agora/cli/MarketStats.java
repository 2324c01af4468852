package io.agora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/** The market as the API shows it: a worker's earnings, and the pools, workers and your jobs counted. */
final class MarketStats {
    private MarketStats() {
    }

    static void printPools(PrintWriter out, Iterable<JsonNode> pools) {
        Table t = new Table("POOL", "STATUS", "WORKERS", "ACTIVE", "FAILED", "CAPACITY", "AVG LATENCY MS", "CONSENSUS");
        for (JsonNode p : pools) {
            t.row(p.path("pool"), p.path("status"), p.path("workers"), p.path("activeWorkers"), p.path("failedWorkers"),
                    p.path("capacity"), p.path("averageLatencyMs"), p.path("consensusReliability"));
        }
        t.print(out);
    }

    @Command(name = "earnings", description = "A worker's earnings: today, this week, this month, in all, and its balance (micro-credits).")
    static final class Earnings extends AgoraCli.Base {
        @Parameters(index = "0", paramLabel = "WORKER_ID")
        String workerId;

        @Override
        public Integer call() throws Exception {
            JsonNode e = client().get("/api/v1/workers/" + ApiClient.segment(workerId) + "/earnings");
            if (json()) {
                print(e);
            } else {
                Table.record(out(), "worker", e.path("workerId"), "today", e.path("todayMicros"), "week", e.path("weekMicros"),
                        "month", e.path("monthMicros"), "total", e.path("totalMicros"), "balance", e.path("balanceMicros"));
            }
            return Exit.OK;
        }
    }

    @Command(name = "stats", description = {"The market at a glance: each pool's health, workers by status and, with a key, your jobs by status.",
            "-o json: {pools: [...], workers: {total, byStatus}, jobs: {total, byStatus, complete} or null}."})
    static final class Stats extends AgoraCli.Base {
        /** The API serves at most this many jobs a page. */
        static final int PAGE = 500;

        @Option(names = "--max-jobs", defaultValue = "10000", description = "count at most this many of your jobs (default: ${DEFAULT-VALUE})")
        int maxJobs;

        @Override
        public Integer call() throws Exception {
            JsonNode workers = client().get("/api/v1/workers");
            Map<String, Integer> workersByStatus = new TreeMap<>();
            TreeSet<String> poolNames = new TreeSet<>();
            for (JsonNode w : workers) {
                workersByStatus.merge(w.path("status").asText(), 1, Integer::sum);
                poolNames.add(w.path("pool").asText());
            }
            ArrayNode pools = ApiClient.JSON.createArrayNode();
            for (String p : poolNames) {
                pools.add(client().get("/api/v1/pools/" + ApiClient.segment(p)));
            }
            ObjectNode jobs = null;
            if (root().key != null && !root().key.isBlank()) {
                Map<String, Integer> byStatus = new TreeMap<>();
                int total = 0;
                boolean complete = false;
                while (total < maxJobs) {
                    JsonNode page = client().get("/api/v1/jobs?limit=" + PAGE + "&offset=" + total).path("jobs");
                    for (JsonNode j : page) {
                        byStatus.merge(j.path("status").asText().toUpperCase(Locale.ROOT), 1, Integer::sum);
                    }
                    total += page.size();
                    if (page.size() < PAGE) {
                        complete = true;
                        break;
                    }
                }
                jobs = ApiClient.JSON.createObjectNode().put("total", total).put("complete", complete);
                jobs.set("byStatus", ApiClient.JSON.valueToTree(byStatus));
            }
            if (json()) {
                ObjectNode r = ApiClient.JSON.createObjectNode();
                r.set("pools", pools);
                ObjectNode w = r.putObject("workers").put("total", workers.size());
                w.set("byStatus", ApiClient.JSON.valueToTree(workersByStatus));
                r.set("jobs", jobs == null ? ApiClient.JSON.nullNode() : jobs);
                print(r);
                return Exit.OK;
            }
            printPools(out(), pools);
            out().println();
            out().println("workers: " + workers.size() + counts(workersByStatus));
            if (jobs == null) {
                out().println("your jobs: not counted (no --key)");
            } else {
                Map<String, Integer> byStatus = new TreeMap<>();
                jobs.path("byStatus").fields().forEachRemaining(f -> byStatus.put(f.getKey(), f.getValue().asInt()));
                out().println("your jobs: " + jobs.path("total").asInt() + (jobs.path("complete").asBoolean() ? "" : "+")
                        + counts(byStatus));
            }
            return Exit.OK;
        }

        private static String counts(Map<String, Integer> byStatus) {
            if (byStatus.isEmpty()) {
                return "";
            }
            StringBuilder sb = new StringBuilder(" (");
            byStatus.forEach((s, n) -> sb.append(sb.length() > 2 ? ", " : "").append(s).append(' ').append(n));
            return sb.append(')').toString();
        }
    }
}
