package io.agora.worker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.exception.DockerClientException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.DeviceRequest;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Image;
import com.github.dockerjava.api.model.LogConfig;
import com.github.dockerjava.api.model.Volume;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import io.agora.events.JobSpec;
import io.agora.events.ResultStatus;
import io.agora.events.TaskAssigned;
import io.agora.schemas.AllowedImages;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs each task in a fresh Docker container that is always removed afterwards: image present
 * locally, or pulled by digest from an allowlisted registry ({@link ImagePulls}, a bounded cache), no network unless the job asks for it and the worker allows it,
 * read-only root with a small writable {@code /tmp}, memory (no swap), cpu and pids limits, all
 * capabilities dropped, no privilege escalation, user nobody, and a wall-clock timeout.
 * stdout/stderr are read through an attach (the container has no log driver, so a chatty job
 * cannot fill the disk) up to their caps. Declared output files are copied out of the stopped
 * container and hashed; since a tmpfs vanishes when the container stops, a task that declares
 * output files gets a per-task host folder mounted at {@code /tmp} instead of a tmpfs. Every task
 * also gets {@code /outputs}, a per-task host folder whose regular files are hashed into the
 * result and uploaded to the market ({@link MarketFiles}), and, when it names inputs, {@code /inputs}
 * read-only, holding each input fetched and checked against its SHA-256. The task's folders are
 * watched while it runs and checked again before anything is copied: over their size or entry cap
 * the task is killed and nothing is copied; after a timeout nothing is copied either.
 * Every container carries the worker's id as a label, and on start the worker removes its own
 * leftovers (a crash leaves them). Engine calls go through a {@link CircuitBreaker}, each bounded
 * by {@code docker.call.timeout.ms}; transport failures are retried with backoff.
 */
public final class DockerSandbox implements Sandbox {
    private static final Logger log = LoggerFactory.getLogger(DockerSandbox.class);
    public static final String LABEL_WORKER = "io.agora.worker";
    public static final String LABEL_TASK = "io.agora.task";
    /** How often the output folder of a running task is measured. */
    private static final long OUTPUT_WATCH_MS = 200;

    /** Where a job finds its inputs (read-only) and leaves the files it wants back. */
    static final String INPUTS = "/inputs";
    static final String OUTPUTS = "/outputs";
    /** The verifier's bound on a result's files and their path length (verifier Bounds). */
    static final int RESULT_FILES_MAX = 64;
    static final int RESULT_PATH_MAX = 512;

    private final DockerClient docker;
    private final WorkerConfig cfg;
    private final MarketFiles files;
    private final String workerId;
    private final CircuitBreaker breaker;
    private final Backoff backoff = new Backoff(100, 1000);
    private final ImagePulls pulls;
    private final RegistryCredentials credentials;
    /**
     * Images the engine was seen to hold: a task of one of them goes straight to create, without an inspect;
     * a create that finds the image gone (removed by hand) forgets it and looks again ({@link #run}).
     */
    private final java.util.Set<String> present = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final ExecutorService calls = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "docker-call");
        t.setDaemon(true);
        return t;
    });

    public DockerSandbox(DockerClient docker, WorkerConfig cfg, String workerId, CircuitBreaker breaker) {
        this(docker, cfg, workerId, breaker, MarketFiles.NONE);
    }

    public DockerSandbox(DockerClient docker, WorkerConfig cfg, String workerId, CircuitBreaker breaker, MarketFiles files) {
        this.files = files;
        this.docker = docker;
        this.cfg = cfg;
        this.workerId = workerId;
        this.breaker = breaker;
        this.pulls = new ImagePulls(cfg.pullAllowed(), cfg.imageCache());
        this.credentials = RegistryCredentials.load(cfg.registryAuth());
    }

    /** Why a task's image cannot run: IMAGE_MISSING (not here and not pulled) or IMAGE_PULL_FAILED (the registry's message). */
    private record ImageProblem(ResultStatus status, String reason) {
    }

    /**
     * Makes {@code image} present: a local one is used as it is; a missing one is pulled by digest
     * when {@link ImagePulls} allows it. Pulled images are a bounded cache: the least recently used
     * beyond {@code image.cache} are removed (their reference only: layers other images share stay).
     * Why the image cannot run (the refusal, or the registry's message), or null.
     */
    private ImageProblem ensureImage(String image) throws Exception {
        boolean here = present.contains(image);
        if (!here) {
            try {
                retried(() -> docker.inspectImageCmd(image).exec());
                here = true;
            } catch (NotFoundException e) {
                here = false;
            }
        }
        if (!here) {
            Optional<String> refused = pulls.refusal(image);
            if (refused.isPresent()) {
                return new ImageProblem(ResultStatus.IMAGE_MISSING, refused.get());
            }
            String failed = pull(image);
            if (failed != null) {
                return new ImageProblem(ResultStatus.IMAGE_PULL_FAILED, "pull of " + image + " failed: " + failed);
            }
        }
        present.add(image);
        if (ImagePulls.registry(image).isPresent()) {
            for (String old : pulls.used(image)) {
                present.remove(old);
                try {
                    engine(() -> docker.removeImageCmd(old).exec());
                    log.info("image cache: removed {}", old);
                } catch (Exception e) {
                    log.info("image cache: {} not removed: {}", old, CircuitBreaker.describe(e));
                }
            }
        }
        return null;
    }

    /**
     * Pulls {@code name@sha256:...} within {@code pull.timeout.ms}, showing the registry this worker's
     * secret for it when it holds one ({@link RegistryCredentials}); the registry's message on failure, or null.
     */
    private String pull(String image) throws InterruptedException {
        io.agora.schemas.ImageRef ref = io.agora.schemas.ImageRef.parse(image).orElseThrow();
        Optional<RegistryCredentials.Secret> secret = credentials.forImage(image);
        log.info("pulling {}{}", image, secret.isPresent() ? " with this worker's credentials for " + ref.registry() : "");
        var cmd = docker.pullImageCmd(ref.name()).withTag(ref.digest());
        secret.ifPresent(sec -> cmd.withAuthConfig(sec.auth(ref.registry())));
        try (var cb = cmd.exec(new com.github.dockerjava.api.command.PullImageResultCallback())) {
            if (!cb.awaitCompletion(cfg.pullTimeoutMs(), TimeUnit.MILLISECONDS)) {
                return "no answer in " + cfg.pullTimeoutMs() + " ms";
            }
            return null;
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            return CircuitBreaker.describe(e);
        }
    }

    /** The images this worker pulled and still holds, most recently used last. */
    public List<String> pulledImages() {
        return pulls.cached();
    }

    /** A docker-java client on the Apache httpclient5 transport. */
    public static DockerClient client(String dockerHost) {
        return client(dockerHost, null);
    }

    /** The engine's client; every API call timed in {@code meters} when given ({@link MeteredDockerHttpClient}). */
    public static DockerClient client(String dockerHost, io.micrometer.core.instrument.MeterRegistry meters) {
        DockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(dockerHost).build();
        ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost())
                .sslConfig(config.getSSLConfig())
                .maxConnections(64)
                .connectionTimeout(Duration.ofSeconds(5))
                .build();
        return DockerClientImpl.getInstance(config, meters == null ? http : new MeteredDockerHttpClient(http, meters));
    }

    public DockerClient docker() {
        return docker;
    }

    @Override
    public Optional<String> probe() {
        try {
            timed(() -> docker.pingCmd().exec());
            breaker.onSuccess();
            return Optional.empty();
        } catch (Exception e) {
            breaker.onFailure("docker engine unreachable: " + CircuitBreaker.describe(e));
            return Optional.of("docker engine unreachable");
        }
    }

    /**
     * Force-removes every container labelled with this worker's id (a crashed run leaves them
     * running) and the task folders under {@code <stateDir>/work}; how many containers.
     */
    @Override
    public int removeLeftovers() {
        int removed = 0;
        try {
            List<Container> left = engine(() -> docker.listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of(LABEL_WORKER, workerId)).exec());
            for (Container c : left) {
                log.info("removing leftover container {} of task {}", c.getId(),
                        c.getLabels() == null ? "?" : c.getLabels().get(LABEL_TASK));
                remove(c.getId());
                removed++;
            }
        } catch (Exception e) {
            log.warn("cannot list leftover containers: {}", CircuitBreaker.describe(e));
        }
        Path work = cfg.stateDir().resolve("work");
        if (Files.isDirectory(work)) {
            try (Stream<Path> dirs = Files.list(work)) {
                dirs.filter(d -> d.getFileName().toString().startsWith("task-")).forEach(DockerSandbox::deleteTree);
            } catch (IOException e) {
                log.warn("cannot list {}: {}", work, e.toString());
            }
        }
        return removed;
    }

    @Override
    public Optional<List<String>> pullAllowlist() {
        return Optional.of(pulls.allowlist());
    }

    @Override
    public List<String> imageDigests(int max) {
        return pulls.digests(max);
    }

    @Override
    public List<String> localImages() {
        try {
            List<String> tags = new ArrayList<>();
            for (Image i : engine(() -> docker.listImagesCmd().exec())) {
                if (i.getRepoTags() != null) {
                    for (String t : i.getRepoTags()) {
                        if (!t.startsWith("<none>")) {
                            tags.add(t);
                        }
                    }
                }
            }
            tags.sort(Comparator.naturalOrder());
            return tags;
        } catch (Exception e) {
            return List.of();
        }
    }

    @Override
    public SandboxOutcome run(TaskAssigned task) {
        long start = System.currentTimeMillis();
        JobSpec spec = task.getSpec();
        String image = spec.getImage();
        if (!AllowedImages.admits(cfg.allowedImages(), image)) {
            return SandboxOutcome.failed(ResultStatus.IMAGE_MISSING, "image " + image + " is not among this worker's allowed images",
                    start, System.currentTimeMillis());
        }
        Optional<String> badFile = spec.getOutputFiles().stream().filter(f -> !validOutputPath(f)).findFirst();
        if (badFile.isPresent()) {
            return SandboxOutcome.failed(ResultStatus.SANDBOX_ERROR, "output file " + badFile.get()
                    + " is not a plain path under /tmp", start, System.currentTimeMillis());
        }
        Optional<String> badInput = spec.getInputs().stream()
                .filter(i -> !validInputPath(i.getPath()) || !io.agora.artifacts.Sha256.valid(i.getSha256()))
                .map(i -> i.getPath()).findFirst();
        if (badInput.isPresent()) {
            return SandboxOutcome.failed(ResultStatus.SANDBOX_ERROR, "input " + badInput.get()
                    + " is not a plain relative path with a SHA-256", start, System.currentTimeMillis());
        }
        Path workDir = null;
        String containerId = null;
        try {
            ImageProblem missing = ensureImage(image);
            if (missing != null) {
                return SandboxOutcome.failed(missing.status(), missing.reason(), start, System.currentTimeMillis());
            }
            long afterPull = System.currentTimeMillis(); // a pull is the worker's time, not the job's
            workDir = taskDir();
            Path tmp = spec.getOutputFiles().isEmpty() ? null : writable(workDir.resolve("tmp"));
            Path outputs = writable(workDir.resolve("outputs"));
            Path inputs = null;
            if (!spec.getInputs().isEmpty()) {
                inputs = workDir.resolve("inputs");
                String failed = stageInputs(spec, inputs);
                if (failed != null) {
                    return SandboxOutcome.failed(ResultStatus.SANDBOX_ERROR, failed, start, System.currentTimeMillis());
                }
            }
            try {
                containerId = create(task, tmp, outputs, inputs);
            } catch (NotFoundException e) {
                if (!present.remove(image)) {
                    throw e;
                }
                // seen here before, gone now (removed by hand): look again, pull it when allowed
                ImageProblem gone = ensureImage(image);
                if (gone != null) {
                    return SandboxOutcome.failed(gone.status(), gone.reason(), start, System.currentTimeMillis());
                }
                containerId = create(task, tmp, outputs, inputs);
            }
            return runContainer(containerId, spec, workDir, outputs, afterPull);
        } catch (CircuitBreaker.OpenException e) {
            return SandboxOutcome.failed(ResultStatus.SANDBOX_ERROR, e.getMessage(), start, System.currentTimeMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return SandboxOutcome.failed(ResultStatus.SANDBOX_ERROR, "interrupted", start, System.currentTimeMillis());
        } catch (DockerException e) {
            log.warn("task {} sandbox error", task.getTaskId(), e);
            return SandboxOutcome.failed(ResultStatus.SANDBOX_ERROR, CircuitBreaker.describe(e), start, System.currentTimeMillis());
        } catch (Exception e) {
            log.warn("task {} sandbox error: {}", task.getTaskId(), CircuitBreaker.describe(e));
            return SandboxOutcome.failed(ResultStatus.SANDBOX_ERROR, CircuitBreaker.describe(e), start, System.currentTimeMillis());
        } finally {
            if (containerId != null) {
                remove(containerId);
            }
            if (workDir != null) {
                deleteTree(workDir);
            }
        }
    }

    /**
     * Fetches every input of the task into {@code dir} (each checked against its SHA-256 by
     * {@link MarketFiles}), readable by the job's user; why it could not, or null.
     */
    private String stageInputs(JobSpec spec, Path dir) {
        for (io.agora.events.InputFile in : spec.getInputs()) {
            Path target = dir.resolve(in.getPath()).normalize();
            try {
                Files.createDirectories(target.getParent());
                files.fetch(in.getSha256(), target);
                Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("r--r--r--"));
            } catch (IOException | RuntimeException e) {
                // a refused connection's exception has no message: name its class then
                return "input " + in.getPath() + " (" + in.getSha256() + ") could not be fetched: "
                        + (e.getMessage() == null ? e.toString() : e.getMessage());
            }
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path d : (Iterable<Path>) s.filter(Files::isDirectory)::iterator) {
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        } catch (IOException | UncheckedIOException e) {
            return "inputs folder: " + e.getMessage();
        }
        return null;
    }

    static boolean validInputPath(String p) {
        if (p == null || p.isEmpty() || p.length() > 255 || p.startsWith("/")) {
            return false;
        }
        for (String seg : p.split("/", -1)) {
            if (seg.isEmpty() || seg.equals(".") || seg.equals("..") || seg.contains("\0")) {
                return false;
            }
        }
        return true;
    }

    private String create(TaskAssigned task, Path tmp, Path outputs, Path inputs) throws Exception {
        JobSpec spec = task.getSpec();
        boolean network = spec.getNetwork() && cfg.networkAllowed();
        HostConfig hc = hostConfig(spec, network, tmp, cfg.tmpfsMb(), outputs, inputs);
        List<String> env = new ArrayList<>();
        new TreeMap<>(spec.getEnv()).forEach((k, v) -> env.add(k + "=" + v));
        return retried(() -> docker.createContainerCmd(spec.getImage())
                .withCmd(spec.getCommand())
                .withEnv(env)
                .withUser("65534:65534")
                .withWorkingDir("/tmp")
                .withNetworkDisabled(!network)
                .withLabels(Map.of(LABEL_WORKER, workerId, LABEL_TASK, task.getTaskId()))
                .withHostConfig(hc)
                .exec().getId());
    }

    /**
     * The container's limits: no network unless allowed, read-only root, memory without swap, cpus,
     * pids, every capability dropped, no new privileges, no logs kept by the engine, /tmp as the
     * task's work dir (or a tmpfs), and the job's GPUs as a Docker device request (the engine's
     * GPU runtime, e.g. the NVIDIA container toolkit, must be installed; without it the container
     * is refused and the task ends SANDBOX_ERROR).
     */
    static HostConfig hostConfig(JobSpec spec, boolean network, Path workDir, long tmpfsMb) {
        return hostConfig(spec, network, workDir, tmpfsMb, null, null);
    }

    /** As above, with the task's {@code /outputs} folder (read-write) and {@code /inputs} (read-only) when given. */
    static HostConfig hostConfig(JobSpec spec, boolean network, Path workDir, long tmpfsMb, Path outputs, Path inputs) {
        long memBytes = Math.max(6, spec.getMemoryMb()) * 1024L * 1024L;
        HostConfig hc = HostConfig.newHostConfig()
                .withNetworkMode(network ? "bridge" : "none")
                .withReadonlyRootfs(true)
                .withMemory(memBytes)
                .withMemorySwap(memBytes)
                .withNanoCPUs((long) (Math.max(0.01, spec.getCpus()) * 1e9))
                .withPidsLimit((long) Math.max(1, spec.getPidsLimit()))
                .withCapDrop(Capability.ALL)
                .withSecurityOpts(List.of("no-new-privileges"))
                .withLogConfig(new LogConfig(LogConfig.LoggingType.NONE));
        List<Bind> binds = new ArrayList<>();
        if (workDir != null) {
            binds.add(new Bind(workDir.toString(), new Volume("/tmp")));
        } else {
            hc.withTmpFs(Map.of("/tmp", "rw,noexec,nosuid,size=" + tmpfsMb + "m,mode=1777"));
        }
        if (outputs != null) {
            binds.add(new Bind(outputs.toString(), new Volume(OUTPUTS)));
        }
        if (inputs != null) {
            binds.add(new Bind(inputs.toString(), new Volume(INPUTS), AccessMode.ro));
        }
        if (!binds.isEmpty()) {
            hc.withBinds(binds);
        }
        if (spec.getGpus() > 0) {
            hc.withDeviceRequests(List.of(new DeviceRequest().withCount(spec.getGpus())
                    .withCapabilities(List.of(List.of("gpu")))));
        }
        return hc;
    }

    private SandboxOutcome runContainer(String id, JobSpec spec, Path workDir, Path outputs, long start) throws Exception {
        Capture capture = new Capture(cfg.stdoutCapBytes(), cfg.stderrCapBytes());
        try (capture) {
            engine(() -> docker.attachContainerCmd(id).withStdOut(true).withStdErr(true).withFollowStream(true)
                    .withLogs(false).exec(capture));
            capture.awaitStarted(5, TimeUnit.SECONDS);
            engine(() -> docker.startContainerCmd(id).exec());
            long runStart = System.currentTimeMillis();
            long deadline = runStart + spec.getTimeoutMs();
            boolean timedOut = false;
            String overflow = null;
            Integer waited = null; // the exit code the wait reported
            try (Exit wait = engine(() -> docker.waitContainerCmd(id).exec(new Exit()))) {
                while (true) {
                    long left = deadline - System.currentTimeMillis();
                    if (left <= 0) {
                        timedOut = true;
                        kill(id);
                        break;
                    }
                    if (wait.exited(workDir == null ? left : Math.min(left, OUTPUT_WATCH_MS))) {
                        waited = wait.code;
                        break;
                    }
                    if (workDir != null && (overflow = outputOverflow(workDir)) != null) {
                        kill(id);
                        break;
                    }
                }
            }
            long finished = System.currentTimeMillis();
            if (!timedOut && finished - runStart > spec.getTimeoutMs()) {
                timedOut = true;
            }
            capture.awaitCompletion(5, TimeUnit.SECONDS);
            // a clean exit needs no inspect: only a failed, killed or timed-out container is asked why (OOM, error)
            InspectContainerResponse.ContainerState state = !timedOut && waited != null && waited == 0 ? null
                    : engine(() -> docker.inspectContainerCmd(id).exec()).getState();
            int exit = state == null ? 0 : state.getExitCodeLong() == null ? -1 : state.getExitCodeLong().intValue();
            boolean oom = state != null && Boolean.TRUE.equals(state.getOOMKilled());
            // the engine learns of a kernel OOM kill from an event that can trail the exit (cgroup v1):
            // a SIGKILLed container (137) that no timeout killed is asked again, briefly
            for (int i = 0; !oom && !timedOut && exit == 137 && i < 10; i++) {
                Thread.sleep(100);
                oom = Boolean.TRUE.equals(engine(() -> docker.inspectContainerCmd(id).exec()).getState().getOOMKilled());
            }
            if (timedOut) {
                // nothing is copied out of a task that ran out of time
                return capture.outcome(ResultStatus.TIMEOUT, "wall-clock timeout of " + spec.getTimeoutMs() + " ms",
                        exit, Map.of(), start, finished);
            }
            if (overflow == null && workDir != null) {
                overflow = outputOverflow(workDir); // what the last moments wrote
            }
            if (overflow != null) {
                // the job's own doing, as a timeout is: its replicas agreeing on it decide the job, and it pays the time
                return capture.outcome(ResultStatus.OUTPUT_OVER_CAPS, overflow + ": nothing copied", exit, Map.of(),
                        start, finished);
            }
            if (oom) {
                return capture.outcome(ResultStatus.OUT_OF_MEMORY, "killed at the memory limit of " + spec.getMemoryMb() + " MB",
                        exit, Map.of(), start, finished);
            }
            Map<String, String> files = new TreeMap<>();
            long[] budget = {cfg.caps().outputMb() * 1024 * 1024};
            for (String f : spec.getOutputFiles()) {
                files.put(f, fileHash(id, f, budget));
            }
            NotKept notKept = collectOutputs(outputs, files, spec.getOutputFiles().size());
            if (notKept != null) {
                return capture.outcome(notKept.status(), notKept.reason(), exit, Map.of(), start, finished);
            }
            if (exit != 0) {
                String reason = "exit code " + exit + (state == null || state.getError() == null || state.getError().isEmpty() ? "" : ": " + state.getError());
                return capture.outcome(ResultStatus.FAILED_EXIT, reason, exit, files, start, finished);
            }
            return capture.outcome(ResultStatus.SUCCEEDED, null, exit, files, start, finished);
        }
    }

    /** Why a task's output files are not kept: the job's doing ({@code OUTPUT_OVER_CAPS}) or the market's ({@code SANDBOX_ERROR}). */
    record NotKept(ResultStatus status, String reason) {
    }

    /**
     * Hashes every regular file the job left under {@code /outputs} into {@code result} (as
     * {@code /outputs/<path>}) and uploads it to the market; symbolic links and other non-files are
     * left out (never followed: the job made them). Why the files cannot be kept, or null: more
     * than {@code max.output.files} (declared ones included; the verifier takes at most
     * {@link #RESULT_FILES_MAX}) or a path over {@link #RESULT_PATH_MAX} characters (the job's doing),
     * an unreadable folder or an upload that failed (the market's fault).
     */
    NotKept collectOutputs(Path outputs, Map<String, String> result, int declared) {
        List<Path> found;
        try (Stream<Path> s = Files.walk(outputs)) {
            found = s.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).sorted().toList();
        } catch (IOException | UncheckedIOException e) {
            return new NotKept(ResultStatus.SANDBOX_ERROR, "output folder cannot be read: " + e.getMessage());
        }
        int cap = Math.min(cfg.caps().outputFiles(), RESULT_FILES_MAX);
        if (declared + found.size() > cap) {
            return new NotKept(ResultStatus.OUTPUT_OVER_CAPS, "the job left " + found.size() + " files under " + OUTPUTS
                    + ", over this worker's cap of " + cap + " result files (AGORA_WORKER_MAX_OUTPUT_FILES): nothing kept");
        }
        for (Path f : found) {
            String name = OUTPUTS + "/" + outputs.relativize(f).toString().replace(java.io.File.separatorChar, '/');
            if (name.length() > RESULT_PATH_MAX) {
                return new NotKept(ResultStatus.OUTPUT_OVER_CAPS, "output path over " + RESULT_PATH_MAX + " characters: nothing kept");
            }
            try {
                String sha;
                try (InputStream in = Files.newInputStream(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    byte[] buf = new byte[64 * 1024];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        md.update(buf, 0, n);
                    }
                    sha = HexFormat.of().formatHex(md.digest());
                }
                files.upload(f, sha);
                result.put(name, sha);
            } catch (IOException e) {
                return new NotKept(ResultStatus.SANDBOX_ERROR, "output " + name + " could not be uploaded: " + e.getMessage());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
        return null;
    }

    /**
     * Why the task's output folder is over its caps ({@code max.output.mb} bytes in all, or
     * {@code max.output.entries} files and folders), or null. Sizes are apparent sizes: a sparse
     * file counts whole.
     */
    String outputOverflow(Path workDir) {
        long maxBytes = cfg.caps().outputMb() * 1024 * 1024;
        long maxEntries = cfg.caps().outputEntries();
        long[] seen = {0, 0};
        Path inputs = workDir.resolve("inputs");
        try (Stream<Path> s = Files.walk(workDir)) {
            boolean over = s.skip(1).filter(p -> !p.startsWith(inputs)).anyMatch(p -> {
                seen[0]++;
                if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    try {
                        seen[1] += Files.size(p);
                    } catch (IOException e) {
                        return false; // deleted meanwhile
                    }
                }
                return seen[0] > maxEntries || seen[1] > maxBytes;
            });
            if (!over) {
                return null;
            }
        } catch (IOException | UncheckedIOException e) {
            return "output folder cannot be measured (" + e.getMessage() + ")";
        }
        return seen[0] > maxEntries
                ? "output folder over its cap of " + maxEntries + " entries (AGORA_WORKER_MAX_OUTPUT_ENTRIES)"
                : "output folder over its cap of " + cfg.caps().outputMb() + " MB (AGORA_WORKER_MAX_OUTPUT_MB)";
    }

    /**
     * Hex SHA-256 of a file copied out of the container, {@code absent} when the job did not write it,
     * {@code too-large} once the task's output files together pass {@code max.output.mb}.
     */
    private String fileHash(String id, String path, long[] budget) throws Exception {
        try (InputStream in = engine(() -> docker.copyArchiveFromContainerCmd(id, path).exec());
             TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e = tar.getNextEntry();
            if (e == null || !e.isFile()) {
                return e == null ? "absent" : "not-a-file";
            }
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            int n;
            while ((n = tar.read(buf)) > 0) {
                total += n;
                if (total > budget[0]) {
                    budget[0] = 0;
                    return "too-large";
                }
                md.update(buf, 0, n);
            }
            budget[0] -= total;
            return HexFormat.of().formatHex(md.digest());
        } catch (NotFoundException e) {
            return "absent";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean validOutputPath(String p) {
        return p.startsWith("/tmp/") && !p.contains("/../") && !p.endsWith("/..") && !p.contains("\0") && p.length() > 5;
    }

    private void kill(String id) {
        try {
            timed(() -> docker.killContainerCmd(id).exec());
        } catch (Exception e) {
            log.debug("kill {}: {}", id, e.toString()); // it may have exited meanwhile
        }
        try (WaitContainerResultCallback wait = timed(() -> docker.waitContainerCmd(id).exec(new WaitContainerResultCallback()))) {
            wait.awaitStatusCode(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.debug("wait after kill {}: {}", id, e.toString());
        }
    }

    private void remove(String id) {
        try {
            retried(() -> {
                try {
                    docker.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
                } catch (NotFoundException e) {
                    // already gone
                }
                return null;
            });
        } catch (Exception e) {
            log.error("container {} could not be removed: {}", id, e.toString());
        }
    }

    private Path taskDir() throws IOException {
        Path base = cfg.stateDir().resolve("work");
        Files.createDirectories(base);
        return Files.createTempDirectory(base, "task-").toAbsolutePath();
    }

    /** A folder of the task the job (running as nobody) may write, like a tmpfs /tmp. */
    private static Path writable(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        return dir;
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            log.warn("cannot delete task folder {}: {}", dir, e.toString());
        }
    }

    /** One engine call through the breaker. An answer from the engine, even an error, proves it is up. */
    private <T> T engine(Callable<T> call) throws Exception {
        if (!breaker.tryAcquire()) {
            throw new CircuitBreaker.OpenException("docker engine", breaker.lastError());
        }
        try {
            T t = timed(call);
            breaker.onSuccess();
            return t;
        } catch (DockerException e) {
            breaker.onSuccess();
            throw e;
        } catch (RuntimeException e) {
            breaker.onFailure("docker engine unreachable: " + CircuitBreaker.describe(e));
            throw e;
        }
    }

    /**
     * The call, or a {@link DockerCallTimeout} once it took {@code docker.call.timeout.ms}: docker-java
     * has no per-call deadline, and an engine that accepts a connection but never answers would
     * otherwise hold a task thread (and its slot) forever. The abandoned call's thread is interrupted.
     */
    private <T> T timed(Callable<T> call) throws Exception {
        Future<T> f = calls.submit(call);
        try {
            return f.get(cfg.dockerCallTimeoutMs(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new DockerCallTimeout(cfg.dockerCallTimeoutMs());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw e;
        } catch (InterruptedException e) {
            f.cancel(true);
            throw e;
        }
    }

    /** A Docker Engine call that did not answer in time: the engine counts as unreachable. */
    static final class DockerCallTimeout extends RuntimeException {
        DockerCallTimeout(long ms) {
            super("docker engine did not answer within " + ms + " ms (AGORA_WORKER_DOCKER_CALL_TIMEOUT_MS)", null,
                    false, false);
        }
    }

    private <T> T retried(Callable<T> call) throws Exception {
        return backoff.retry(3, e -> !(e instanceof DockerException) && !(e instanceof CircuitBreaker.OpenException)
                && e instanceof RuntimeException, () -> engine(call));
    }

    @Override
    public void close() {
        calls.shutdownNow();
        try {
            docker.close();
        } catch (IOException e) {
            log.debug("closing docker client: {}", e.toString());
        }
    }

    /**
     * The container's exit, awaited in slices: docker-java's own {@code awaitCompletion(timeout)}
     * closes the stream when its timeout passes, so a second look would find it "complete".
     */
    static final class Exit extends WaitContainerResultCallback {
        private final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        /** The exit code the engine reported, or null (none yet, or an error). */
        volatile Integer code;

        @Override
        public void onNext(com.github.dockerjava.api.model.WaitResponse r) {
            super.onNext(r);
            code = r.getStatusCode();
        }

        @Override
        public void onComplete() {
            super.onComplete();
            done.countDown();
        }

        @Override
        public void onError(Throwable t) {
            super.onError(t);
            done.countDown();
        }

        boolean exited(long ms) throws InterruptedException {
            return done.await(ms, TimeUnit.MILLISECONDS);
        }
    }

    /** stdout and stderr of the job, each kept up to its cap. */
    static final class Capture extends ResultCallback.Adapter<Frame> {
        private final Bounded out;
        private final Bounded err;

        Capture(int outCap, int errCap) {
            this.out = new Bounded(outCap);
            this.err = new Bounded(errCap);
        }

        @Override
        public void onNext(Frame f) {
            switch (f.getStreamType()) {
                case STDOUT, RAW -> out.write(f.getPayload());
                case STDERR -> err.write(f.getPayload());
                default -> {
                }
            }
        }

        SandboxOutcome outcome(ResultStatus status, String reason, int exit, Map<String, String> files, long start, long end) {
            return new SandboxOutcome(status, reason, exit, out.bytes(), out.truncated(), err.bytes(), err.truncated(),
                    files, start, end);
        }
    }

    static final class Bounded {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private final int cap;
        private boolean truncated;

        Bounded(int cap) {
            this.cap = cap;
        }

        synchronized void write(byte[] b) {
            int room = cap - buf.size();
            if (b.length > room) {
                truncated = true;
                if (room > 0) {
                    buf.write(b, 0, room);
                }
            } else {
                buf.write(b, 0, b.length);
            }
        }

        synchronized byte[] bytes() {
            return buf.toByteArray();
        }

        synchronized boolean truncated() {
            return truncated;
        }
    }
}
