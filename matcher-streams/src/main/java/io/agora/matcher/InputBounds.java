package io.agora.matcher;

import io.agora.market.Limits;
import io.agora.events.CommandType;
import io.agora.events.EntryKind;
import io.agora.events.GpuInfo;
import io.agora.events.Heartbeat;
import io.agora.events.HostHeartbeat;
import io.agora.events.HostedBeat;
import io.agora.events.JobCommand;
import io.agora.events.JobRequested;
import io.agora.events.JobSpec;
import io.agora.events.LedgerEntry;
import io.agora.events.Posting;
import io.agora.events.Requirements;
import io.agora.events.ReputationChanged;
import io.agora.events.TaskResult;
import io.agora.events.WorkerCapabilities;
import io.agora.events.WorkerRegistration;
import io.agora.schemas.HostBeats;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The shape every record must have before the matcher keeps anything of it: string lengths, list
 * sizes and numeric ranges of each field it stores or computes with. A record outside them is
 * refused at the door (the worker gate, admission, the results and commands gate) and dead-lettered
 * with the problems this class names; none of them can then stall the app (a task partition the
 * topic does not have, a string too long for a state format, a count or time that overflows).
 *
 * <p>The bounds are an outer hull: ingest-api's own request rules are narrower, so no job it
 * accepts is refused here. Each check returns null when the record is in bounds, else every
 * problem, one per field, joined with "; " (field names and limits only, never the value).
 */
public final class InputBounds {
    /** Characters of an id: event, job, client, worker, pool, account, idempotency key. */
    public static final int MAX_ID = Limits.ID_MAX;
    /** Characters of a task id {@code <jobId>/<replica>/<attempt>}. */
    public static final int MAX_TASK_ID = MAX_ID + 24;
    /** Characters of a free text or a command argument. */
    public static final int MAX_TEXT = 4096;
    /** Items of a list (tags, command, env, in-flight tasks, postings). */
    public static final int MAX_LIST = 256;
    /** Image digests a heartbeat may list ({@code sha256:} and 64 hex digits, or another algorithm's). */
    static final int MAX_IMAGE_DIGESTS = 64;
    static final int MAX_DIGEST = 135;
    /** Workers a command may exclude (replicas times attempts of one job). */
    public static final int MAX_EXCLUDED = 4096;
    /** Replicas of one job (and so the highest replica number + 1). */
    public static final int MAX_REPLICAS = Limits.REPLICAS_MAX;
    public static final int MAX_ATTEMPTS = 100;
    /** Slots a worker may claim; the matcher allows far fewer ({@code agora.matcher.max.slots.per.worker}). */
    public static final int MAX_SLOTS = 1_000_000;
    /** Any duration: timeouts, queue timeouts, deadlines, task durations. */
    public static final long MAX_DURATION_MS = 30L * 24 * 3600 * 1000;
    /** Any amount or price in micro-credits (a billion credits). */
    public static final long MAX_MICROS = 1_000_000_000_000_000L;
    public static final int MAX_REPUTATION_DELTA = 1_000_000;
    public static final int MAX_PRIORITY = 1_000_000;
    /** Timestamps up to the year 9999, so that any bounded duration added to one fits a long. */
    public static final long MAX_EPOCH_MS = Instant.parse("9999-12-31T23:59:59Z").toEpochMilli();
    private static final int MAX_COUNT = 1 << 20;

    private InputBounds() {
    }

    public static String heartbeat(Heartbeat hb, int taskPartitions) {
        Problems p = new Problems();
        p.str("eventId", hb.getEventId());
        p.id("workerId", hb.getWorkerId());
        p.id("pool", hb.getPool());
        p.text("statusReason", hb.getStatusReason());
        p.range("freeSlots", hb.getFreeSlots(), 0, MAX_SLOTS);
        p.finite("load", hb.getLoad(), 0, 1e6);
        p.ids("inFlightTaskIds", hb.getInFlightTaskIds(), Limits.HEARTBEAT_TASKS_MAX, MAX_TASK_ID);
        List<Integer> parts = hb.getOwnedPartitions();
        if (parts == null || parts.size() > taskPartitions) {
            p.add("ownedPartitions", "must list at most " + taskPartitions + " partitions");
        } else if (parts.stream().anyMatch(x -> x == null || x < 0 || x >= taskPartitions)) {
            p.add("ownedPartitions", "must be partitions of the task topic, 0.." + (taskPartitions - 1));
        }
        p.range("pricePerCpuSecondMicros", hb.getPricePerCpuSecondMicros(), 0, MAX_MICROS);
        p.ids("imageDigests", hb.getImageDigests(), MAX_IMAGE_DIGESTS, MAX_DIGEST);
        return p.result();
    }

    /**
     * A host's record: 1..{@link HostBeats#MAX_BEATS} beats of distinct identities, all of the partition of the first
     * (the record's key: a host groups its identities by partition, {@link HostBeats#partition}), each in the bounds of
     * a {@link #heartbeat}. Whether each beat is signed by its identity for this host and sequence number is the gate's.
     */
    public static String hostHeartbeat(HostHeartbeat hb, int taskPartitions) {
        Problems p = new Problems();
        p.str("eventId", hb.getEventId());
        p.id("host", hb.getHost());
        List<HostedBeat> beats = hb.getBeats();
        if (beats == null || beats.isEmpty() || beats.size() > HostBeats.MAX_BEATS) {
            p.add("beats", "must hold 1.." + HostBeats.MAX_BEATS + " beats");
            return p.result();
        }
        java.util.Set<String> ids = new java.util.HashSet<>();
        Integer partition = null;
        for (int i = 0; i < beats.size() && p.ok(); i++) {
            HostedBeat b = beats.get(i);
            String bad = heartbeat(HostBeats.asHeartbeat(hb, b), taskPartitions);
            if (bad != null) {
                p.add("beats[" + i + "]", bad);
            } else if (!ids.add(b.getWorkerId())) {
                p.add("beats", "must name each worker once");
            } else if (partition == null) {
                partition = HostBeats.partition(b.getWorkerId());
            } else if (HostBeats.partition(b.getWorkerId()) != partition) {
                p.add("beats", "must be of workers of one partition (" + partition + "): a host sends a record per partition");
            }
        }
        return p.result();
    }

    public static String registration(WorkerRegistration reg) {
        Problems p = new Problems();
        p.str("eventId", reg.getEventId());
        p.id("workerId", reg.getWorkerId());
        p.range("stakeMicros", reg.getStakeMicros(), 0, MAX_MICROS);
        WorkerCapabilities c = reg.getCapabilities();
        if (c != null) {
            p.str("capabilities.arch", c.getArch());
            p.range("capabilities.cpuCores", c.getCpuCores(), 0, MAX_COUNT);
            p.range("capabilities.cpuThreads", c.getCpuThreads(), 0, MAX_COUNT);
            p.ids("capabilities.cpuFeatures", c.getCpuFeatures(), MAX_LIST, MAX_ID);
            p.range("capabilities.memoryMb", c.getMemoryMb(), 0, 1L << 40);
            if (c.getGpus() == null || c.getGpus().size() > MAX_LIST) {
                p.add("capabilities.gpus", "must list at most " + MAX_LIST + " gpus");
            } else {
                for (GpuInfo g : c.getGpus()) {
                    p.str("capabilities.gpus.model", g.getModel());
                    p.range("capabilities.gpus.count", g.getCount(), 0, MAX_COUNT);
                    p.range("capabilities.gpus.vramMb", g.getVramMb(), 0, 1L << 40);
                }
            }
            p.ids("capabilities.accelerators", c.getAccelerators(), MAX_LIST, MAX_ID);
            p.range("capabilities.storageMb", c.getStorageMb(), 0, Long.MAX_VALUE);
            p.range("capabilities.networkMbps", c.getNetworkMbps(), 0, Integer.MAX_VALUE);
            p.text("capabilities.networkAttestation", c.getNetworkAttestation());
            p.range("capabilities.diskWriteMiBps", c.getDiskWriteMiBps(), 0, Integer.MAX_VALUE);
            p.str("capabilities.region", c.getRegion());
            p.ids("capabilities.tags", c.getTags(), MAX_LIST, MAX_ID);
            p.ids("capabilities.capabilities", c.getCapabilities(), MAX_LIST, MAX_ID);
            if (c.getPullAllowlist() != null) {
                p.ids("capabilities.pullAllowlist", c.getPullAllowlist(), MAX_LIST, MAX_ID);
            }
            if (c.getAllowedImages() != null) {
                p.ids("capabilities.allowedImages", c.getAllowedImages(), MAX_LIST, Limits.IMAGE_MAX);
            }
            p.range("capabilities.pricePerCpuSecondMicros", c.getPricePerCpuSecondMicros(), 0, MAX_MICROS);
            p.range("capabilities.pricePerGpuSecondMicros", c.getPricePerGpuSecondMicros(), 0, MAX_MICROS);
            p.range("capabilities.pricePerGbSecondMicros", c.getPricePerGbSecondMicros(), 0, MAX_MICROS);
            p.range("capabilities.minPricePerJobMicros", c.getMinPricePerJobMicros(), 0, MAX_MICROS);
            p.range("capabilities.maxConcurrent", c.getMaxConcurrent(), 0, MAX_SLOTS);
            p.id("capabilities.pool", c.getPool());
            p.finite("capabilities.benchmarkScore", c.getBenchmarkScore(), -Double.MAX_VALUE, Double.MAX_VALUE);
            io.agora.events.BenchmarkProof proof = c.getBenchmarkProof();
            if (proof != null) {
                p.str("capabilities.benchmarkProof.seed", proof.getSeed(), io.agora.market.PohChallenge.MAX_SEED);
                p.str("capabilities.benchmarkProof.proofHash", proof.getProofHash());
                p.ids("capabilities.benchmarkProof.checkpoints", proof.getCheckpoints(),
                        io.agora.market.ProofOfHardware.CHECKPOINTS, 64);
                p.range("capabilities.benchmarkProof.steps", proof.getSteps(), 0, Long.MAX_VALUE);
                p.range("capabilities.benchmarkProof.elapsedMs", proof.getElapsedMs(), 0, Long.MAX_VALUE);
                p.range("capabilities.benchmarkProof.stride", proof.getStride(), 0, Long.MAX_VALUE);
            }
        }
        return p.result();
    }

    public static String reputation(ReputationChanged rc) {
        Problems p = new Problems();
        p.str("eventId", rc.getEventId());
        p.id("workerId", rc.getWorkerId());
        p.range("delta", rc.getDelta(), -MAX_REPUTATION_DELTA, MAX_REPUTATION_DELTA);
        p.text("reason", rc.getReason());
        p.optionalId("jobId", rc.getJobId());
        if (rc.getStake() != null) {
            p.id("stake.clientId", rc.getStake().getClientId());
            p.range("stake.reclaimMicros", rc.getStake().getReclaimMicros(), 0, MAX_MICROS);
            p.ids("stake.honestWorkers", rc.getStake().getHonestWorkers(), MAX_LIST, MAX_ID);
            if (rc.getJobId() == null) {
                p.add("stake", "needs the jobId of its dispute");
            }
        }
        return p.result();
    }

    public static String job(JobRequested job) {
        Problems p = new Problems();
        p.str("eventId", job.getEventId());
        p.jobId(job.getJobId());
        p.id("clientId", job.getClientId());
        p.optionalId("idempotencyKey", job.getIdempotencyKey());
        JobSpec s = job.getSpec();
        p.text("spec.image", s.getImage());
        p.texts("spec.command", s.getCommand());
        Map<String, String> env = s.getEnv();
        if (env == null || env.size() > MAX_LIST) {
            p.add("spec.env", "must have at most " + MAX_LIST + " variables");
        } else {
            env.forEach((k, v) -> {
                p.str("spec.env name", k);
                p.text("spec.env value", v);
            });
        }
        p.range("spec.timeoutMs", s.getTimeoutMs(), 0, MAX_DURATION_MS);
        p.range("spec.memoryMb", s.getMemoryMb(), 0, Integer.MAX_VALUE);
        p.finite("spec.cpus", s.getCpus(), 0, MAX_COUNT);
        p.range("spec.pidsLimit", s.getPidsLimit(), 0, Integer.MAX_VALUE);
        p.texts("spec.outputFiles", s.getOutputFiles());
        p.range("spec.gpus", s.getGpus(), 0, MAX_COUNT);
        Requirements r = job.getRequirements();
        p.id("requirements.pool", r.getPool());
        p.range("requirements.minCpuCores", r.getMinCpuCores(), 0, MAX_COUNT);
        p.range("requirements.minMemoryMb", r.getMinMemoryMb(), 0, 1L << 40);
        p.optionalId("requirements.gpuModel", r.getGpuModel());
        p.range("requirements.minGpuCount", r.getMinGpuCount(), 0, MAX_COUNT);
        p.range("requirements.minGpuVramMb", r.getMinGpuVramMb(), 0, 1L << 40);
        p.optionalId("requirements.accelerator", r.getAccelerator());
        p.optionalId("requirements.region", r.getRegion());
        p.ids("requirements.tagsAll", r.getTagsAll(), MAX_LIST, MAX_ID);
        p.ids("requirements.tagsAny", r.getTagsAny(), MAX_LIST, MAX_ID);
        p.ids("requirements.capabilitiesAny", r.getCapabilitiesAny(), MAX_LIST, MAX_ID);
        p.range("requirements.maxPricePerCpuSecondMicros", r.getMaxPricePerCpuSecondMicros(), 0, MAX_MICROS);
        p.range("requirements.maxPricePerGpuSecondMicros", r.getMaxPricePerGpuSecondMicros(), 0, MAX_MICROS);
        p.range("requirements.maxPricePerGbSecondMicros", r.getMaxPricePerGbSecondMicros(), 0, MAX_MICROS);
        p.range("redundancy", job.getRedundancy(), 1, MAX_REPLICAS);
        p.range("quorum", job.getQuorum(), 0, MAX_REPLICAS);
        p.range("maxTotalResults", job.getMaxTotalResults(), Math.max(1, Math.min(job.getRedundancy(), MAX_REPLICAS)),
                MAX_REPLICAS);
        p.range("maxAttempts", job.getMaxAttempts(), 0, MAX_ATTEMPTS);
        p.range("priority", job.getPriority(), -MAX_PRIORITY, MAX_PRIORITY);
        p.range("queueTimeoutMs", job.getQueueTimeoutMs(), 0, MAX_DURATION_MS);
        p.range("deadlineMs", job.getDeadlineMs(), 0, MAX_DURATION_MS);
        p.time("submittedAt", job.getSubmittedAt());
        return p.result();
    }

    /** A task result, for the fields the matcher reads: which task of which job ended on which worker. */
    public static String result(TaskResult r) {
        Problems p = new Problems();
        p.str("eventId", r.getEventId());
        p.id("jobId", r.getJobId());
        p.id("workerId", r.getWorkerId());
        p.id("pool", r.getPool());
        p.range("replica", r.getReplica(), 0, MAX_REPLICAS - 1);
        p.range("attempt", r.getAttempt(), 0, MAX_ATTEMPTS);
        p.range("durationMs", r.getDurationMs(), 0, MAX_DURATION_MS);
        if (r.getTaskId() == null || r.getTaskId().length() > MAX_TASK_ID) {
            p.add("taskId", "must be at most " + MAX_TASK_ID + " characters");
        } else if (p.ok() && !r.getTaskId().equals(Leases.taskId(r.getJobId(), r.getReplica(), r.getAttempt()))) {
            p.add("taskId", "must be <jobId>/<replica>/<attempt> of the result's own fields");
        }
        return p.result();
    }

    /** A job command for the matcher (CANCEL, REQUEST_REPLICAS). */
    public static String command(JobCommand c) {
        Problems p = new Problems();
        p.str("eventId", c.getEventId());
        p.id("jobId", c.getJobId());
        p.id("clientId", c.getClientId());
        p.id("pool", c.getPool());
        if (c.getType() == CommandType.REQUEST_REPLICAS) {
            p.range("replica", c.getReplica(), -1, MAX_REPLICAS - 1);
            p.range("count", c.getCount(), 0, MAX_REPLICAS);
        }
        p.ids("excludeWorkers", c.getExcludeWorkers(), MAX_EXCLUDED, MAX_ID);
        p.text("reason", c.getReason());
        return p.result();
    }

    /**
     * The entries admission applies to their client's available balance: DEPOSIT, REFUND, SLASH, and
     * DISPUTE_FEE (the verifier's hold of a dispute fee debits it, its refund credits it back).
     */
    static boolean creditsClient(LedgerEntry e) {
        return e.getKind() == EntryKind.DEPOSIT || e.getKind() == EntryKind.REFUND || e.getKind() == EntryKind.SLASH
                || e.getKind() == EntryKind.DISPUTE_FEE;
    }

    public static String ledger(LedgerEntry e) {
        Problems p = new Problems();
        if (!creditsClient(e)) {
            return null;
        }
        p.id("clientId", e.getClientId());
        if (e.getPostings() == null || e.getPostings().size() > MAX_LIST) {
            p.add("postings", "must have at most " + MAX_LIST + " postings");
        } else {
            for (Posting x : e.getPostings()) {
                p.str("postings.accountId", x.getAccountId());
                p.range("postings.amountMicros", x.getAmountMicros(), -MAX_MICROS, MAX_MICROS);
            }
        }
        return p.result();
    }

    /** Collects one problem per field (the first found for it). */
    private static final class Problems {
        private final List<String> fields = new ArrayList<>();
        private final List<String> out = new ArrayList<>();

        void add(String field, String why) {
            if (!fields.contains(field)) {
                fields.add(field);
                out.add(field + " " + why);
            }
        }

        boolean ok() {
            return out.isEmpty();
        }

        String result() {
            return out.isEmpty() ? null : String.join("; ", out);
        }

        /** A job id the verifier keeps too ({@link Limits#isId}): the matcher must not hold escrow for one it would refuse. */
        void jobId(String v) {
            if (!Limits.isId(v)) {
                add("jobId", "must be 1.." + MAX_ID + " visible ASCII characters without '/' or '|'");
            }
        }

        void id(String field, String v) {
            if (v == null || v.isEmpty() || v.length() > MAX_ID) {
                add(field, "must be 1.." + MAX_ID + " characters");
            }
        }

        /** Present (possibly empty) and at most {@link #MAX_ID} characters. */
        void str(String field, String v) {
            str(field, v, MAX_ID);
        }

        /** Present (possibly empty) and at most {@code max} characters. */
        void str(String field, String v, int max) {
            if (v == null || v.length() > max) {
                add(field, "must be at most " + max + " characters");
            }
        }

        void optionalId(String field, String v) {
            if (v != null && v.length() > MAX_ID) {
                add(field, "must be at most " + MAX_ID + " characters");
            }
        }

        void text(String field, String v) {
            if (v != null && v.length() > MAX_TEXT) {
                add(field, "must be at most " + MAX_TEXT + " characters");
            }
        }

        void ids(String field, List<String> vs, int maxItems, int maxLength) {
            if (vs == null || vs.size() > maxItems) {
                add(field, "must list at most " + maxItems + " items");
            } else if (vs.stream().anyMatch(v -> v == null || v.length() > maxLength)) {
                add(field, "items must be at most " + maxLength + " characters");
            }
        }

        void texts(String field, List<String> vs) {
            if (vs == null || vs.size() > MAX_LIST) {
                add(field, "must list at most " + MAX_LIST + " items");
            } else if (vs.stream().anyMatch(v -> v == null || v.length() > MAX_TEXT)) {
                add(field, "items must be at most " + MAX_TEXT + " characters");
            }
        }

        void range(String field, long v, long min, long max) {
            if (v < min || v > max) {
                add(field, "must be between " + min + " and " + max);
            }
        }

        void finite(String field, double v, double min, double max) {
            if (!Double.isFinite(v) || v < min || v > max) {
                add(field, "must be a finite number between " + min + " and " + max);
            }
        }

        void time(String field, Instant t) {
            if (t == null || t.toEpochMilli() < 0 || t.toEpochMilli() > MAX_EPOCH_MS) {
                add(field, "must be a time between 1970 and 9999");
            }
        }
    }
}
