package io.agora.cli;

import io.agora.events.EntryKind;
import io.agora.events.JobRequested;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.events.Posting;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The market's statistics over a time range, computed from plain lists of events (no Kafka):
 * throughput (verdicts per bucket of {@code decidedAt}), submit→verdict latency percentiles,
 * per-worker earnings (PAYOUT postings to {@code worker:<id>}) and agreement rates, the
 * distribution of assignment prices, and consensus reliability (share of COMPLETED verdicts)
 * per pool.
 *
 * <p>Only events inside {@code [from, to)} are counted: verdicts by {@code decidedAt}, tasks
 * (prices) by {@code assignedAt}, ledger entries by {@code timestamp}. Requests and tasks
 * outside the range are still used to look up a job's pool, so a reader may hand in more than
 * the range.
 */
public final class MarketAnalytics {
    private static final String WORKER_PREFIX = "worker:";
    /** Up to this many distinct prices get one histogram bin each; more are binned by width. */
    static final int MAX_EXACT_PRICE_BINS = 20;
    static final int PRICE_BINS = 10;

    private final Instant from;
    private final Instant to;
    private final Duration bucket;
    private final List<JobVerdict> verdicts;
    private final List<TaskAssigned> tasksInRange;
    private final List<LedgerEntry> ledgerInRange;
    private final List<TaskResult> resultsInRange;
    private final Map<String, String> poolOfJob = new HashMap<>();

    /** Verdicts in one time bucket. */
    public record Bucket(Instant start, long verdicts, long completed) {
    }

    /** Latency statistics (milliseconds) of one group of verdicts; zeros when empty. */
    public record Latency(String group, int count, long p50, long p95, long p99, long max, double mean) {
    }

    /** One worker's earnings and agreement in the range. */
    public record WorkerStats(String workerId, long earningsMicros, int payouts, int tasks, int results,
                              int agreeing, int dissenting) {
        /** agreeing / (agreeing + dissenting), or NaN when the worker was in no COMPLETED verdict. */
        public double agreementRate() {
            int votes = agreeing + dissenting;
            return votes == 0 ? Double.NaN : (double) agreeing / votes;
        }
    }

    /** A price histogram bin, inclusive bounds (micro-credits per cpu-second). */
    public record PriceBin(long low, long high, long count) {
    }

    /** Verdict outcomes of one pool. */
    public record PoolStats(String pool, Map<Outcome, Long> outcomes) {
        public long total() {
            return outcomes.values().stream().mapToLong(Long::longValue).sum();
        }

        public long completed() {
            return outcomes.getOrDefault(Outcome.COMPLETED, 0L);
        }

        /** Share of COMPLETED verdicts, or NaN without verdicts. */
        public double reliability() {
            return total() == 0 ? Double.NaN : (double) completed() / total();
        }
    }

    public MarketAnalytics(Instant from, Instant to, Duration bucket, List<JobRequested> requests,
                           List<TaskAssigned> tasks, List<TaskResult> results, List<JobVerdict> verdicts,
                           List<LedgerEntry> ledger) {
        if (bucket.isZero() || bucket.isNegative()) {
            throw new IllegalArgumentException("bucket must be positive: " + bucket);
        }
        if (!from.isBefore(to)) {
            throw new IllegalArgumentException("from " + from + " must be before to " + to);
        }
        this.from = from;
        this.to = to;
        this.bucket = bucket;
        for (JobRequested r : requests) {
            poolOfJob.putIfAbsent(r.getJobId(), r.getRequirements().getPool());
        }
        for (TaskAssigned t : tasks) {
            poolOfJob.put(t.getJobId(), t.getTerms().getPool()); // the terms are what the market applied
        }
        // One verdict per job (the first, like the sink's verdicts table).
        Map<String, JobVerdict> firstVerdict = new LinkedHashMap<>();
        for (JobVerdict v : verdicts) {
            if (inRange(v.getDecidedAt())) {
                firstVerdict.putIfAbsent(v.getJobId(), v);
            }
        }
        this.verdicts = List.copyOf(firstVerdict.values());
        this.tasksInRange = tasks.stream().filter(t -> inRange(t.getAssignedAt())).toList();
        this.resultsInRange = results.stream().filter(r -> inRange(r.getFinishedAt())).toList();
        this.ledgerInRange = ledger.stream().filter(e -> inRange(e.getTimestamp())).toList();
    }

    private boolean inRange(Instant t) {
        return !t.isBefore(from) && t.isBefore(to);
    }

    public Instant from() {
        return from;
    }

    public Instant to() {
        return to;
    }

    public Duration bucket() {
        return bucket;
    }

    public int verdictCount() {
        return verdicts.size();
    }

    /** Every bucket from {@code from} to {@code to}, empty ones included. */
    public List<Bucket> throughput() {
        long size = bucket.toMillis();
        long start = Math.floorDiv(from.toEpochMilli(), size) * size;
        int n = (int) Math.max(1, Math.floorDiv(to.toEpochMilli() - 1 - start, size) + 1);
        long[] all = new long[n];
        long[] completed = new long[n];
        for (JobVerdict v : verdicts) {
            int i = (int) Math.floorDiv(v.getDecidedAt().toEpochMilli() - start, size);
            all[i]++;
            if (v.getOutcome() == Outcome.COMPLETED) {
                completed[i]++;
            }
        }
        List<Bucket> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new Bucket(Instant.ofEpochMilli(start + i * size), all[i], completed[i]));
        }
        return out;
    }

    /** Submit→verdict latency of all verdicts, then of each outcome present. */
    public List<Latency> latency() {
        List<Latency> out = new ArrayList<>();
        out.add(latencyOf("all", verdicts));
        Map<Outcome, List<JobVerdict>> byOutcome = new TreeMap<>();
        for (JobVerdict v : verdicts) {
            byOutcome.computeIfAbsent(v.getOutcome(), o -> new ArrayList<>()).add(v);
        }
        byOutcome.forEach((o, vs) -> out.add(latencyOf(o.name(), vs)));
        return out;
    }

    private static Latency latencyOf(String group, List<JobVerdict> vs) {
        long[] ms = vs.stream().mapToLong(v -> Math.max(0, Duration.between(v.getSubmittedAt(), v.getDecidedAt()).toMillis()))
                .sorted().toArray();
        if (ms.length == 0) {
            return new Latency(group, 0, 0, 0, 0, 0, 0);
        }
        double mean = java.util.Arrays.stream(ms).average().orElse(0);
        return new Latency(group, ms.length, percentile(ms, 50), percentile(ms, 95), percentile(ms, 99), ms[ms.length - 1], mean);
    }

    /** Nearest-rank percentile of sorted values: the smallest value with at least p% of the values at or below it. */
    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            throw new IllegalArgumentException("no values");
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
    }

    /** Every worker seen in the range (tasks, results, verdicts, payouts), highest earnings first. */
    public List<WorkerStats> workers() {
        Map<String, long[]> w = new TreeMap<>(); // earnings, payouts, tasks, results, agreeing, dissenting
        for (LedgerEntry e : ledgerInRange) {
            if (e.getKind() != EntryKind.PAYOUT) {
                continue;
            }
            for (Posting p : e.getPostings()) {
                if (p.getAccountId().startsWith(WORKER_PREFIX)) {
                    long[] s = w.computeIfAbsent(p.getAccountId().substring(WORKER_PREFIX.length()), k -> new long[6]);
                    s[0] += p.getAmountMicros();
                    s[1]++;
                }
            }
        }
        for (TaskAssigned t : tasksInRange) {
            w.computeIfAbsent(t.getWorkerId(), k -> new long[6])[2]++;
        }
        for (TaskResult r : resultsInRange) {
            w.computeIfAbsent(r.getWorkerId(), k -> new long[6])[3]++;
        }
        for (JobVerdict v : verdicts) {
            for (String a : new TreeSet<>(v.getAgreeing())) {
                w.computeIfAbsent(a, k -> new long[6])[4]++;
            }
            for (String d : new TreeSet<>(v.getDissenting())) {
                w.computeIfAbsent(d, k -> new long[6])[5]++;
            }
        }
        List<WorkerStats> out = new ArrayList<>();
        w.forEach((id, s) -> out.add(new WorkerStats(id, s[0], (int) s[1], (int) s[2], (int) s[3], (int) s[4], (int) s[5])));
        out.sort((a, b) -> a.earningsMicros() != b.earningsMicros()
                ? Long.compare(b.earningsMicros(), a.earningsMicros()) : a.workerId().compareTo(b.workerId()));
        return out;
    }

    /** Histogram of the prices of the tasks assigned in the range. */
    public List<PriceBin> prices() {
        return histogram(tasksInRange.stream().map(TaskAssigned::getPricePerCpuSecondMicros).toList());
    }

    static List<PriceBin> histogram(Collection<Long> values) {
        if (values.isEmpty()) {
            return List.of();
        }
        TreeMap<Long, Long> counts = new TreeMap<>();
        values.forEach(v -> counts.merge(v, 1L, Long::sum));
        List<PriceBin> out = new ArrayList<>();
        if (counts.size() <= MAX_EXACT_PRICE_BINS) {
            counts.forEach((v, c) -> out.add(new PriceBin(v, v, c)));
            return out;
        }
        long min = counts.firstKey();
        long max = counts.lastKey();
        long width = Math.max(1, Math.floorDiv(max - min, PRICE_BINS) + 1);
        long[] bins = new long[PRICE_BINS];
        counts.forEach((v, c) -> bins[(int) Math.min(PRICE_BINS - 1, (v - min) / width)] += c);
        for (int i = 0; i < PRICE_BINS; i++) {
            long low = min + i * width;
            if (low > max) {
                break;
            }
            out.add(new PriceBin(low, Math.min(max, low + width - 1), bins[i]));
        }
        return out;
    }

    /** Verdict outcomes and reliability per pool (from the tasks' JobTerms, else the request, else "unknown"). */
    public List<PoolStats> pools() {
        Map<String, Map<Outcome, Long>> by = new TreeMap<>();
        for (JobVerdict v : verdicts) {
            String pool = poolOfJob.getOrDefault(v.getJobId(), "unknown");
            by.computeIfAbsent(pool, p -> new java.util.EnumMap<>(Outcome.class)).merge(v.getOutcome(), 1L, Long::sum);
        }
        List<PoolStats> out = new ArrayList<>();
        by.forEach((p, m) -> out.add(new PoolStats(p, m)));
        return out;
    }
}
