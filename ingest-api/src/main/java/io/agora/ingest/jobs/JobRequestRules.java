package io.agora.ingest.jobs;

import io.agora.events.JobRequested;
import io.agora.events.InputFile;
import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.events.Strategy;
import io.agora.ingest.api.Problem;
import io.agora.market.Limits;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The rules a submitted job must pass, and its defaults. Written as one plain pass rather than
 * bean-validation annotations because several rules span fields (quorum ≤ redundancy ≤
 * maxTotalResults) and the client must get every problem in one answer.
 */
public final class JobRequestRules {
    // Defaults and limits are constants so that SubmitJob's OpenAPI annotations quote the same values.
    public static final long DEFAULT_TIMEOUT_MS = 60_000;
    public static final long MIN_TIMEOUT_MS = 1000;
    public static final long MAX_TIMEOUT_MS = 3_600_000;
    public static final int DEFAULT_MEMORY_MB = 128;
    public static final int MIN_MEMORY_MB = 4;
    public static final int MAX_MEMORY_MB = 65_536;
    public static final double DEFAULT_CPUS = 1.0;
    public static final int MAX_CPUS = 64;
    public static final int DEFAULT_PIDS = 64;
    public static final int MAX_PIDS = 65_536;
    public static final int MAX_GPUS = 16;
    public static final int DEFAULT_REDUNDANCY = 3;
    public static final int MAX_REDUNDANCY = 15;
    public static final int DEFAULT_QUORUM = 2;
    public static final int MAX_TOTAL_RESULTS = 1000;
    public static final int DEFAULT_MAX_ATTEMPTS = 3;
    public static final int MAX_ATTEMPTS = 20;
    public static final int MAX_PRIORITY = 100;
    public static final long DEFAULT_QUEUE_TIMEOUT_MS = 300_000;
    public static final long MIN_WAIT_MS = 1000;
    public static final long MAX_QUEUE_TIMEOUT_MS = 86_400_000;
    public static final long DEFAULT_DEADLINE_MS = 900_000;
    public static final long MAX_DEADLINE_MS = 7 * 86_400_000L;
    public static final String DEFAULT_POOL = "public";
    public static final int DEFAULT_MIN_REPUTATION = -1_000_000;
    public static final int MAX_MIN_CPU_CORES = 1024;
    public static final long MAX_MIN_MEMORY_MB = 16L * 1024 * 1024;
    public static final int MAX_MIN_GPU_COUNT = 64;
    public static final long MAX_MIN_GPU_VRAM_MB = 1024L * 1024;
    public static final String IMAGE_PATTERN = "[A-Za-z0-9][A-Za-z0-9._/:@-]{0," + (Limits.IMAGE_MAX - 1) + "}";
    public static final String ENV_NAME_PATTERN = "[A-Za-z_][A-Za-z0-9_]*";
    public static final String POOL_PATTERN = "[a-z0-9][a-z0-9._-]{0,62}";
    public static final String OUTPUT_DIR = "/tmp/";
    private static final Pattern IMAGE = Pattern.compile(IMAGE_PATTERN);
    private static final Pattern ENV_NAME = Pattern.compile(ENV_NAME_PATTERN);
    private static final Pattern POOL = Pattern.compile(POOL_PATTERN);
    public static final int MAX_INPUTS = 64;
    private static final Pattern INPUT_SEGMENT = Pattern.compile("[A-Za-z0-9._-]{1,128}");

    private JobRequestRules() {
    }

    /**
     * A verification level a client may pick instead of replicas, quorum and strategy: what it sets,
     * and so the escrow bound ({@code maxTotalResults} replicas at most).
     * <ul>
     *   <li>{@code none}: one replica, its result taken as is; a trusted pool only.</li>
     *   <li>{@code hash}: two replicas whose output hashes must agree, one more if they do not.</li>
     *   <li>{@code full}: full redundancy, Byzantine-tolerant: 4 replicas (f = 1), 3 must agree, up to 7.</li>
     * </ul>
     */
    public enum Verification {
        NONE(1, 1, Strategy.FIRST, 1), HASH(2, 2, Strategy.K_OF_N, 3), FULL(4, 3, Strategy.BFT, 7);

        final int redundancy;
        final int quorum;
        final Strategy strategy;
        final int maxTotalResults;

        Verification(int redundancy, int quorum, Strategy strategy, int maxTotalResults) {
            this.redundancy = redundancy;
            this.quorum = quorum;
            this.strategy = strategy;
            this.maxTotalResults = maxTotalResults;
        }

        /** The level named by a request ({@code none}, {@code hash}, {@code full}); null when none is named or it is unknown. */
        public static Verification of(String s) {
            if (s == null) {
                return null;
            }
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "none" -> NONE;
                case "hash" -> HASH;
                case "full" -> FULL;
                default -> null;
            };
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * {@link #problems(SubmitJob)} plus the pool's rule: only a trusted pool (one with an
     * allowlist of workers, seed 000) runs a job on a single replica; an open pool admits anyone
     * and relies on consensus, so a job there needs at least 2 replicas.
     */
    public static List<Problem> problems(SubmitJob j, java.util.function.Predicate<String> trustedPool) {
        return problems(j, trustedPool, pool -> 1);
    }

    /**
     * {@link #problems(SubmitJob)} and the pool's rules: a single replica only in a trusted pool, and
     * a {@code bft} job tolerating at least the pool's f ({@code bftFaults}, market's
     * {@code MarketRules.bftFaults}): redundancy 3f + 1 with f at least the pool's.
     */
    public static List<Problem> problems(SubmitJob j, java.util.function.Predicate<String> trustedPool,
                                         java.util.function.ToIntFunction<String> bftFaults) {
        List<Problem> p = new ArrayList<>(problems(j));
        String pool = pool(j);
        int n = redundancy(j);
        if (n == 1 && !trustedPool.test(pool)) {
            p.add(new Problem("redundancy", "must be >= 2 in the open pool '" + pool
                    + "': only a trusted pool (with an allowlist) runs a job on one unverified replica"));
        }
        int poolFaults = bftFaults.applyAsInt(pool);
        if (strategyOf(j) == Strategy.BFT && n >= 4 && (n - 1) % 3 == 0 && (n - 1) / 3 < poolFaults) {
            p.add(new Problem("redundancy", "must be at least 3f + 1 = " + (3 * poolFaults + 1) + " for bft in pool '"
                    + pool + "', which tolerates f = " + poolFaults + " faulty workers (was " + n + ", f = "
                    + (n - 1) / 3 + ")"));
        }
        return p;
    }

    /**
     * The request with the pool's f filled in: a {@code bft} job that names neither its redundancy
     * nor a verification level runs 3f + 1 replicas, f = {@code poolFaults} (its quorum then defaults
     * to 2f + 1 and its maxTotalResults to 2n); any other request is returned as it is. The client
     * chooses f itself by naming the redundancy 3f + 1.
     */
    public static SubmitJob withPoolFaults(SubmitJob j, int poolFaults) {
        if (j.redundancy() != null || j.verification() != null || strategyOf(j) != Strategy.BFT) {
            return j;
        }
        return new SubmitJob(j.image(), j.command(), j.env(), j.timeoutMs(), j.memoryMb(), j.cpus(), j.pidsLimit(),
                j.network(), j.outputFiles(), 3 * poolFaults + 1, j.quorum(), j.strategy(), j.maxTotalResults(),
                j.maxAttempts(), j.priority(), j.queueTimeoutMs(), j.deadlineMs(), j.maxPricePerCpuSecondMicros(),
                j.requirements(), j.gpus(), j.inputs(), j.verification());
    }

    /** The pool the job asks for, else the public one. */
    public static String pool(SubmitJob j) {
        return j.requirements() == null || j.requirements().pool() == null ? DEFAULT_POOL : j.requirements().pool();
    }

    /** Every problem of the request; empty if it can be submitted. */
    public static List<Problem> problems(SubmitJob j) {
        List<Problem> p = new ArrayList<>();
        if (j.image() == null || j.image().isBlank()) {
            p.add(new Problem("image", "is required"));
        } else if (!IMAGE.matcher(j.image()).matches()) {
            p.add(new Problem("image", "is not a valid image reference"));
        }
        if (j.command() == null || j.command().isEmpty()) {
            p.add(new Problem("command", "is required and must be a non-empty array of strings"));
        } else if (j.command().stream().anyMatch(c -> c == null)) {
            p.add(new Problem("command", "must not contain null"));
        }
        if (j.env() != null) {
            j.env().forEach((k, v) -> {
                if (k == null || !ENV_NAME.matcher(k).matches()) {
                    p.add(new Problem("env", "invalid variable name '" + k + "'"));
                } else if (v == null) {
                    p.add(new Problem("env." + k, "must not be null"));
                }
            });
        }
        range(p, "timeoutMs", j.timeoutMs(), MIN_TIMEOUT_MS, MAX_TIMEOUT_MS);
        range(p, "memoryMb", j.memoryMb(), MIN_MEMORY_MB, MAX_MEMORY_MB);
        if (j.cpus() != null && (!(j.cpus() > 0) || j.cpus() > MAX_CPUS)) {
            p.add(new Problem("cpus", "must be > 0 and <= " + MAX_CPUS));
        }
        range(p, "pidsLimit", j.pidsLimit(), 1, MAX_PIDS);
        range(p, "gpus", j.gpus(), 0, MAX_GPUS);
        if (j.outputFiles() != null) {
            for (String f : j.outputFiles()) {
                if (f == null || !f.startsWith(OUTPUT_DIR) || f.contains("..")) {
                    p.add(new Problem("outputFiles", "'" + f + "' must be a path under /tmp/ without '..'"));
                }
            }
        }
        inputProblems(p, j.inputs());
        int n = redundancy(j);
        boolean nValid = range(p, "redundancy", j.redundancy(), 1, MAX_REDUNDANCY);
        Verification level = Verification.of(j.verification());
        if (j.verification() != null && level == null) {
            p.add(new Problem("verification", "must be one of none, hash, full"));
        } else if (level != null) {
            conflict(p, level, "redundancy", j.redundancy(), level.redundancy);
            conflict(p, level, "quorum", j.quorum(), level.quorum);
            conflict(p, level, "maxTotalResults", j.maxTotalResults(), level.maxTotalResults);
            Strategy asked = j.strategy() == null ? null : strategy(j.strategy());
            if (asked != null && asked != level.strategy) {
                p.add(new Problem("strategy", "conflicts with verification " + level.label() + " ("
                        + level.strategy.name().toLowerCase(Locale.ROOT).replace('_', '-') + ")"));
            }
        }
        if (j.quorum() != null) {
            if (j.quorum() < 1) {
                p.add(new Problem("quorum", "must be >= 1"));
            } else if (nValid && j.quorum() > n) {
                p.add(new Problem("quorum", "must be <= redundancy (" + n + ")"));
            }
        }
        Strategy strategy = strategyOf(j);
        if (strategy == null) {
            p.add(new Problem("strategy",
                    "must be one of first, majority, k-of-n, reputation-weighted, adaptive, stake-weighted, bft"));
        } else if (strategy == Strategy.BFT && nValid) {
            // n = 3f + 1 replicas tolerate f liars: an output needs 2f + 1 votes
            if (n < 4 || (n - 1) % 3 != 0) {
                p.add(new Problem("redundancy", "must be 3f + 1 (4, 7, 10 or 13) for bft, was " + n));
            } else if (j.quorum() != null && j.quorum() != 2 * ((n - 1) / 3) + 1) {
                p.add(new Problem("quorum", "must be 2f + 1 = " + (2 * ((n - 1) / 3) + 1) + " for bft with redundancy " + n));
            }
        }
        if (j.maxTotalResults() != null) {
            if (j.maxTotalResults() > MAX_TOTAL_RESULTS) {
                p.add(new Problem("maxTotalResults", "must be <= " + MAX_TOTAL_RESULTS));
            } else if (nValid && j.maxTotalResults() < n) {
                p.add(new Problem("maxTotalResults", "must be >= redundancy (" + n + ")"));
            }
        }
        range(p, "maxAttempts", j.maxAttempts(), 1, MAX_ATTEMPTS);
        range(p, "priority", j.priority(), -MAX_PRIORITY, MAX_PRIORITY);
        range(p, "queueTimeoutMs", j.queueTimeoutMs(), MIN_WAIT_MS, MAX_QUEUE_TIMEOUT_MS);
        range(p, "deadlineMs", j.deadlineMs(), MIN_WAIT_MS, MAX_DEADLINE_MS);
        if (j.maxPricePerCpuSecondMicros() == null) {
            p.add(new Problem("maxPricePerCpuSecondMicros", "is required"));
        } else if (j.maxPricePerCpuSecondMicros() <= 0) {
            p.add(new Problem("maxPricePerCpuSecondMicros", "must be > 0"));
        }
        SubmitJob.JobRequirements r = j.requirements();
        if (r != null) {
            if (r.pool() != null && !POOL.matcher(r.pool()).matches()) {
                p.add(new Problem("requirements.pool", "must be a lower-case pool name"));
            }
            range(p, "requirements.minCpuCores", r.minCpuCores(), 0, MAX_MIN_CPU_CORES);
            range(p, "requirements.minMemoryMb", r.minMemoryMb(), 0, MAX_MIN_MEMORY_MB);
            range(p, "requirements.minGpuCount", r.minGpuCount(), 0, MAX_MIN_GPU_COUNT);
            range(p, "requirements.minGpuVramMb", r.minGpuVramMb(), 0, MAX_MIN_GPU_VRAM_MB);
            range(p, "requirements.maxPricePerGpuSecondMicros", r.maxPricePerGpuSecondMicros(), 0, Long.MAX_VALUE);
            range(p, "requirements.maxPricePerGbSecondMicros", r.maxPricePerGbSecondMicros(), 0, Long.MAX_VALUE);
        }
        return p;
    }

    private static void conflict(List<Problem> p, Verification level, String field, Integer asked, int expected) {
        if (asked != null && asked != expected) {
            p.add(new Problem(field, "conflicts with verification " + level.label() + " (" + expected + ")"));
        }
    }

    private static boolean range(List<Problem> p, String field, Number v, long min, long max) {
        if (v == null) {
            return true;
        }
        if (v.longValue() < min || v.longValue() > max) {
            p.add(new Problem(field, "must be between " + min + " and " + max));
            return false;
        }
        return true;
    }

    public static Strategy strategy(String s) {
        if (s == null) {
            return Strategy.K_OF_N;
        }
        return switch (s.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "first" -> Strategy.FIRST;
            case "majority" -> Strategy.MAJORITY;
            case "k-of-n", "kofn" -> Strategy.K_OF_N;
            case "reputation-weighted" -> Strategy.REPUTATION_WEIGHTED;
            case "adaptive" -> Strategy.ADAPTIVE;
            case "stake-weighted" -> Strategy.STAKE_WEIGHTED;
            case "bft" -> Strategy.BFT;
            default -> null;
        };
    }
    /**
     * Inputs: at most {@link #MAX_INPUTS}, each a relative path of plain names ({@link #INPUT_SEGMENT},
     * no '.' or '..', at most 255 characters), no path twice, and a SHA-256. Whether the client
     * uploaded the file is the service's check ({@link JobService}).
     */
    static void inputProblems(List<Problem> p, List<SubmitJob.Input> inputs) {
        if (inputs == null) {
            return;
        }
        if (inputs.size() > MAX_INPUTS) {
            p.add(new Problem("inputs", "at most " + MAX_INPUTS + " files"));
            return;
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < inputs.size(); i++) {
            SubmitJob.Input in = inputs.get(i);
            String field = "inputs[" + i + "]";
            if (in == null) {
                p.add(new Problem(field, "must not be null"));
                continue;
            }
            if (!validInputPath(in.path())) {
                p.add(new Problem(field + ".path", "must be a relative path of names made of letters, digits, '.', '_' or '-'"
                        + " (not '.' or '..'), at most 255 characters: the job sees it at /inputs/<path>"));
            } else if (!seen.add(in.path())) {
                p.add(new Problem(field + ".path", "'" + in.path() + "' is named twice"));
            }
            if (!io.agora.artifacts.Sha256.valid(in.sha256())) {
                p.add(new Problem(field + ".sha256", "must be the SHA-256 of an uploaded file: 64 lower-case hex digits"));
            }
        }
    }

    static boolean validInputPath(String path) {
        if (path == null || path.isEmpty() || path.length() > 255) {
            return false;
        }
        for (String seg : path.split("/", -1)) {
            if (seg.equals(".") || seg.equals("..") || !INPUT_SEGMENT.matcher(seg).matches()) {
                return false;
            }
        }
        return true;
    }

    /** The job spec with defaults filled in; call only on a request without problems. */
    public static JobSpec spec(SubmitJob j) {
        return JobSpec.newBuilder()
                .setImage(j.image())
                .setCommand(List.copyOf(j.command()))
                .setEnv(j.env() == null ? new HashMap<>() : new HashMap<>(j.env()))
                .setTimeoutMs(or(j.timeoutMs(), DEFAULT_TIMEOUT_MS))
                .setMemoryMb(or(j.memoryMb(), DEFAULT_MEMORY_MB))
                .setCpus(or(j.cpus(), DEFAULT_CPUS))
                .setPidsLimit(or(j.pidsLimit(), DEFAULT_PIDS))
                .setNetwork(or(j.network(), false))
                .setOutputFiles(j.outputFiles() == null ? List.of() : List.copyOf(j.outputFiles()))
                .setGpus(or(j.gpus(), 0))
                .setInputs(j.inputs() == null ? List.of() : j.inputs().stream()
                        .map(i -> InputFile.newBuilder().setPath(i.path()).setSha256(i.sha256()).build()).toList())
                .build();
    }

    public static Requirements requirements(SubmitJob j) {
        SubmitJob.JobRequirements r = j.requirements() == null ? SubmitJob.JobRequirements.none() : j.requirements();
        return Requirements.newBuilder()
                .setPool(or(r.pool(), DEFAULT_POOL))
                .setMinCpuCores(or(r.minCpuCores(), 0))
                .setMinMemoryMb(or(r.minMemoryMb(), 0L))
                .setGpuModel(r.gpuModel())
                .setMinGpuCount(or(r.minGpuCount(), 0))
                .setMinGpuVramMb(or(r.minGpuVramMb(), 0L))
                .setAccelerator(r.accelerator())
                .setRegion(r.region())
                .setTagsAll(r.tagsAll() == null ? List.of() : List.copyOf(r.tagsAll()))
                .setTagsAny(r.tagsAny() == null ? List.of() : List.copyOf(r.tagsAny()))
                .setCapabilitiesAny(r.capabilitiesAny() == null ? List.of() : List.copyOf(r.capabilitiesAny()))
                .setMaxPricePerCpuSecondMicros(j.maxPricePerCpuSecondMicros())
                .setMinReputation(or(r.minReputation(), DEFAULT_MIN_REPUTATION))
                .setMaxPricePerGpuSecondMicros(or(r.maxPricePerGpuSecondMicros(), 0L))
                .setMaxPricePerGbSecondMicros(or(r.maxPricePerGbSecondMicros(), 0L))
                .build();
    }

    public static int redundancy(SubmitJob j) {
        Verification level = Verification.of(j.verification());
        return or(j.redundancy(), level == null ? DEFAULT_REDUNDANCY : level.redundancy);
    }

    /** The client's strategy, else its verification level's, else k-of-n; null when the name is unknown. */
    public static Strategy strategyOf(SubmitJob j) {
        Verification level = Verification.of(j.verification());
        return j.strategy() == null && level != null ? level.strategy : strategy(j.strategy());
    }

    /** The client's quorum, else 2f + 1 under bft (n = 3f + 1), else 2 (at most n). */
    public static int quorum(SubmitJob j) {
        if (j.quorum() != null) {
            return j.quorum();
        }
        Verification level = Verification.of(j.verification());
        if (level != null) {
            return level.quorum;
        }
        return strategy(j.strategy()) == Strategy.BFT ? 2 * ((redundancy(j) - 1) / 3) + 1
                : Math.min(DEFAULT_QUORUM, redundancy(j));
    }

    public static int maxTotalResults(SubmitJob j) {
        Verification level = Verification.of(j.verification());
        return j.maxTotalResults() != null ? j.maxTotalResults() : level != null ? level.maxTotalResults : 2 * redundancy(j);
    }

    /** The event ingest-api produces for a valid request. */
    public static JobRequested toEvent(SubmitJob j, String jobId, String clientId, String idempotencyKey,
                                       String eventId, Instant now) {
        return JobRequested.newBuilder()
                .setEventId(eventId)
                .setJobId(jobId)
                .setClientId(clientId)
                .setIdempotencyKey(idempotencyKey)
                .setSpec(spec(j))
                .setRequirements(requirements(j))
                .setRedundancy(redundancy(j))
                .setQuorum(quorum(j))
                .setStrategy(strategyOf(j))
                .setMaxTotalResults(maxTotalResults(j))
                .setMaxAttempts(or(j.maxAttempts(), DEFAULT_MAX_ATTEMPTS))
                .setPriority(or(j.priority(), 0))
                .setQueueTimeoutMs(or(j.queueTimeoutMs(), DEFAULT_QUEUE_TIMEOUT_MS))
                .setDeadlineMs(or(j.deadlineMs(), DEFAULT_DEADLINE_MS))
                .setSubmittedAt(now)
                .build();
    }

    private static <T> T or(T v, T dflt) {
        return v == null ? dflt : v;
    }
}
