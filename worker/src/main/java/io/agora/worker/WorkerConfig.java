package io.agora.worker;

import io.agora.schemas.AgoraConfig;
import io.agora.schemas.MatcherKey;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The worker's typed configuration, read from {@link AgoraConfig} keys {@code agora.worker.*}
 * (environment {@code AGORA_WORKER_*}).
 *
 * @param stateDir              holds {@code worker.key} (the identity), {@code worker.seal.key} and {@code worker.seq}
 * @param allowedImages         the only images this worker runs ({@code allowed.images}; {@link io.agora.schemas.AllowedImages}:
 *                              an image, or a repository admitting every tag and digest of it); empty = any;
 *                              registered, so the matcher offers no other
 * @param heartbeatIdleMs       the longest an identity with nothing in flight and nothing new to report stays
 *                              silent ({@code heartbeat.idle.ms}, 4000; never below {@code heartbeat.ms}):
 *                              see {@link QuietHeartbeats}
 * @param pricePerGpuSecondMicros price per GPU-second of a job's GPUs ({@code gpu.price}, default 0)
 * @param pricePerGbSecondMicros  price per GiB-second of a job's memory ({@code memory.price}, default 0)
 * @param stdoutCapBytes        stdout bytes captured and hashed; the rest is dropped and flagged
 * @param outputInlineLimit     stdout bytes carried inline in the TaskResult
 * @param tmpfsMb               size of the job's writable {@code /tmp}
 * @param drainTimeoutMs        how long a drain waits for running tasks before handing them back
 * @param deregisterTimeoutMs   how long a drain, after it, tries to send the deregistrations of its identities
 *                              through an outage (schema registry or Kafka away; {@code deregister.timeout.ms},
 *                              30000); then it logs that they are not sent and the worker goes
 * @param pollMs                how long the task poll waits ({@code poll.ms}, 1000): a task ends the wait at
 *                              once, and so do a slot freed while paused and a drain (a wakeup); an idle
 *                              worker's loop at 200 ms was most of its CPU
 * @param adminToken            bearer token of {@code POST /drain}; empty = generate one at start
 *                              ({@link AdminToken})
 * @param dockerCallTimeoutMs   the longest any one Docker Engine call may take
 * @param apiUrl                ingest-api's base URL, where the worker fetches inputs and uploads outputs
 *                              ({@code AGORA_WORKER_API_URL}; default {@code http://localhost:$AGORA_INGEST_PORT})
 * @param caps                  the most a task may ask of this worker ({@code max.*})
 * @param matcherKey            the matcher's public key ({@link MatcherKey}): a task it did not sign is
 *                              logged and skipped; empty (not configured) refuses every task
 * @param identities            worker identities this process hosts (1): the first one's key is
 *                              {@code worker.key} in the state dir, identity i's in {@code identity-i/}
 * @param pullAllowed           registries ({@code host:port}) or repositories ({@code host:port/path/}) this
 *                              worker pulls images from, by digest ({@code pull.allowed}; default the dev
 *                              stack's registry {@code localhost:$AGORA_OCI_PORT}, 5000); see {@link ImagePulls}
 * @param imageCache            how many pulled images are kept; beyond, the least recently used are removed
 * @param pullTimeoutMs         the longest one image pull may take
 * @param accelerators          accelerators the operator declares beyond the detected ones ({@link Capabilities})
 * @param networkMbps           the download bandwidth to register, Mbit/s; 0 = measure it at start with a timed
 *                              download ({@link Capabilities#networkMbps}): of {@code networkProbeUrl}, or by
 *                              default of the market's probe at {@code apiUrl}
 * @param networkProbeUrl       a URL serving a large body (e.g. a file in the artifact store or an object store);
 *                              empty = the market's probe, {@code off} = not measured (0, unknown)
 * @param diskProbeMb           MiB written to the state dir at start to measure its write throughput (0 = off)
 * @param inputCacheMb          the most fetched inputs kept in {@code <stateDir>/artifact-cache}, MiB ({@link InputCache})
 * @param registryAuth          a file of secrets for registries that refuse anonymous pulls ({@code registry.auth},
 *                              empty = none; see {@link RegistryCredentials})
 * @param queuedTasks           tasks taken beyond {@code max.concurrent} ({@code queued.tasks}, default 0): they wait on
 *                              the worker and start the moment a running task ends, instead of a round trip through the
 *                              matcher later; {@link #slots()} is what the worker registers and heartbeats
 */
public record WorkerConfig(
        Path stateDir,
        String pool,
        String region,
        List<String> tags,
        List<String> capabilities,
        long pricePerCpuSecondMicros,
        long minPricePerJobMicros,
        long pricePerGpuSecondMicros,
        long pricePerGbSecondMicros,
        long stakeMicros,
        int maxConcurrent,
        long heartbeatIntervalMs,
        long heartbeatIdleMs,
        List<String> allowedImages,
        boolean networkAllowed,
        int stdoutCapBytes,
        int stderrCapBytes,
        int outputInlineLimit,
        WorkerMode mode,
        String dockerHost,
        int tmpfsMb,
        long drainTimeoutMs,
        long deregisterTimeoutMs,
        long benchmarkMs,
        long pollMs,
        int sessionTimeoutMs,
        int breakerFailures,
        long breakerOpenMs,
        int resultRetries,
        long simulatedTaskMs,
        boolean exitOnDrain,
        String adminToken,
        long dockerCallTimeoutMs,
        String apiUrl,
        TaskCaps caps,
        String matcherKey,
        int identities,
        List<String> pullAllowed,
        int imageCache,
        long pullTimeoutMs,
        List<String> accelerators,
        int networkMbps,
        String networkProbeUrl,
        int diskProbeMb,
        long inputCacheMb,
        String registryAuth,
        int queuedTasks) {

    public static final String PREFIX = "agora.worker.";

    public static WorkerConfig from(AgoraConfig c) {
        return new WorkerConfig(
                Path.of(c.get(PREFIX + "state.dir", c.stateDir())),
                c.get(PREFIX + "pool", "public"),
                c.get(PREFIX + "region", "local"),
                list(c.get(PREFIX + "tags", "")),
                list(c.get(PREFIX + "capabilities", "")),
                c.getLong(PREFIX + "price", 800),
                c.getLong(PREFIX + "min.job.price", 0),
                c.getLong(PREFIX + "gpu.price", 0),
                c.getLong(PREFIX + "memory.price", 0),
                c.getLong(PREFIX + "stake.micros", 0),
                c.getInt(PREFIX + "max.concurrent", 2),
                c.getLong(PREFIX + "heartbeat.ms", 2000),
                Math.max(c.getLong(PREFIX + "heartbeat.ms", 2000), c.getLong(PREFIX + "heartbeat.idle.ms", 4000)),
                list(c.get(PREFIX + "allowed.images", "")),
                c.getBoolean(PREFIX + "network.allowed", false),
                c.getInt(PREFIX + "stdout.cap", 64 * 1024),
                c.getInt(PREFIX + "stderr.cap", 64 * 1024),
                c.getInt(PREFIX + "output.inline.limit", 64 * 1024),
                WorkerMode.parse(c.get(PREFIX + "mode", "docker")),
                c.get(PREFIX + "docker.host", "unix:///var/run/docker.sock"),
                c.getInt(PREFIX + "tmpfs.mb", 64),
                c.getLong(PREFIX + "drain.timeout.ms", 30_000),
                Math.max(0, c.getLong(PREFIX + "deregister.timeout.ms", 30_000)),
                c.getLong(PREFIX + "benchmark.ms", 1000),
                c.getLong(PREFIX + "poll.ms", 1000),
                c.getInt(PREFIX + "session.timeout.ms", 15_000),
                c.getInt(PREFIX + "breaker.failures", 3),
                c.getLong(PREFIX + "breaker.open.ms", 5000),
                c.getInt(PREFIX + "result.retries", 8),
                c.getLong(PREFIX + "simulated.task.ms", 0),
                c.getBoolean(PREFIX + "exit.on.drain", false),
                c.get(PREFIX + "admin.token", ""),
                c.getLong(PREFIX + "docker.call.timeout.ms", 30_000),
                c.get(PREFIX + "api.url", "http://localhost:" + c.get("agora.ingest.port", "8080")),
                TaskCaps.from(c),
                MatcherKey.findPublic(c).orElse(""),
                Math.max(1, c.getInt(PREFIX + "identities", 1)),
                list(c.get(PREFIX + "pull.allowed", "localhost:" + c.get("agora.oci.port", "5000"))),
                c.getInt(PREFIX + "image.cache", 8),
                c.getLong(PREFIX + "pull.timeout.ms", 300_000),
                list(c.get(PREFIX + "accelerators", "")),
                c.getInt(PREFIX + "network.mbps", 0),
                c.get(PREFIX + "network.probe.url", ""),
                c.getInt(PREFIX + "disk.probe.mb", 16),
                c.getLong(PREFIX + "input.cache.mb", 2048),
                c.get(PREFIX + "registry.auth", ""),
                Math.max(0, c.getInt(PREFIX + "queued.tasks", 0)));
    }

    /**
     * Tasks the worker holds at once: {@code max.concurrent} running, {@code queued.tasks} waiting for one of them,
     * never more than a heartbeat can list ({@link io.agora.market.Limits#HEARTBEAT_TASKS_MAX}).
     */
    public int slots() {
        return Math.min(io.agora.market.Limits.HEARTBEAT_TASKS_MAX, maxConcurrent + queuedTasks);
    }

    public Path keyFile() {
        return keyFile(0);
    }

    /** The worker's X25519 key, which the matcher seals its tasks' specs to ({@link io.agora.schemas.TaskSeal}). */
    public Path sealKeyFile() {
        return sealKeyFile(0);
    }

    /** The X25519 key of hosted identity {@code i}. */
    public Path sealKeyFile(int i) {
        return identityDir(i).resolve("worker.seal.key");
    }

    public Path seqFile() {
        return seqFile(0);
    }

    /** The key of hosted identity {@code i}. */
    public Path keyFile(int i) {
        return identityDir(i).resolve("worker.key");
    }

    /** The sequence file of hosted identity {@code i}. */
    public Path seqFile(int i) {
        return identityDir(i).resolve("worker.seq");
    }

    /** The state folder of hosted identity {@code i} (0 = the worker's own, the state dir). */
    public Path identityDir(int i) {
        return i == 0 ? stateDir : stateDir.resolve("identity-" + i);
    }

    private static List<String> list(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }
}
