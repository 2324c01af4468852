package io.agora.worker;

import io.agora.market.Limits;
import io.agora.market.ProofOfHardware;
import io.agora.runtime.Service;
import io.agora.events.Heartbeat;
import io.agora.events.HostHeartbeat;
import io.agora.events.HostedBeat;
import io.agora.events.RegistrationType;
import io.agora.events.ResultStatus;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.events.WorkerCapabilities;
import io.agora.schemas.AllowedImages;
import io.agora.events.WorkerRegistration;
import io.agora.events.WorkerStatus;
import io.agora.schemas.Traces;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Assignments;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.HostBeats;
import io.agora.schemas.Outage;
import io.agora.schemas.TaskSeal;
import io.agora.market.Pricing;
import io.agora.schemas.Topics;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The worker agent: registers its signed identity and capabilities, heartbeats its capacity
 * (renewing the leases of its in-flight tasks), takes tasks as a member of the consumer group
 * {@code agora-workers}, runs them in the {@link Sandbox} and produces signed results.
 * <p>
 * Input: {@code agora.jobs.tasks} (TaskAssigned). Output: {@code agora.workers.registrations},
 * {@code agora.workers.heartbeats}, {@code agora.jobs.results}, {@code agora.dlq}.
 * <p>
 * The poll loop never blocks on a task: tasks run on {@code maxConcurrent} threads, up to
 * {@code queued.tasks} more wait for one of them ({@link WorkerConfig#slots()}), and all
 * assigned partitions are paused while the worker is full, draining, or degraded (its Docker
 * engine or producer circuit is open). Tasks are read read_committed (never one from an aborted
 * matcher transaction) and an offset is committed, asynchronously, as soon as the task is taken; a
 * crash is covered by the lease. Only the poll thread touches the consumer.
 * <p>
 * One agent may host further worker identities ({@link #coHost}): each has its own key,
 * registration, slots, signed results and signed beats, and they share this agent's consumer,
 * producer, sandbox and task threads. The host sends their beats in its own rounds, one record per
 * partition of {@code agora.workers.host-beats} for all of them ({@link #hostHeartbeat}). Every hosted
 * identity lists the host's task partitions in its beats; the poll loop hands each task to the identity
 * it is addressed to (a task for none of them is handed back as misrouted). The broker sees one principal for the whole host.
 */
public final class WorkerAgent implements Service {
    private static final Logger log = LoggerFactory.getLogger(WorkerAgent.class);
    private static final String APP = "worker";

    private enum Phase { QUEUED, RUNNING, DONE, HANDED_BACK }

    /** A task taken by this worker, listed in heartbeats until its result is acknowledged. */
    private static final class InFlight {
        final TaskAssigned task;
        final Headers trace;
        final AtomicReference<Phase> phase = new AtomicReference<>(Phase.QUEUED);
        volatile boolean abandoned;

        InFlight(TaskAssigned task, Headers trace) {
            this.task = task;
            this.trace = trace;
        }
    }

    private final WorkerConfig cfg;
    private final MessageSigner signer;
    private final TaskSeal.Keys sealKeys;
    /** The agent that owns the consumer: this one, or the host of a co-hosted identity. */
    private final WorkerAgent host;
    /** Identities co-hosted by this agent (the host only), by worker id. */
    private final Map<String, WorkerAgent> hosted = new ConcurrentHashMap<>();
    private final Consumer<String, byte[]> consumer;
    private final Producer<byte[], byte[]> producer;
    private final Sandbox sandbox;
    private final CircuitBreaker engineBreaker;
    private final CircuitBreaker produceBreaker;
    private final Deserializer<TaskAssigned> taskDeserializer;
    private final Serializer<TaskResult> resultSerializer;
    private final Serializer<Heartbeat> heartbeatSerializer;
    private final Serializer<HostHeartbeat> hostBeatSerializer;
    private final Serializer<WorkerRegistration> registrationSerializer;
    private final Backoff resultBackoff = new Backoff(200, 10_000);
    /** The pause before a task record that could not be read during an outage is read again. */
    static final Backoff OUTAGE_BACKOFF = new Backoff(500, 5_000);
    /** Polls in a row that met an outage; only the poll thread touches it. */
    private int outagesInARow;
    private final QuietHeartbeats quietHeartbeats;

    private final ThreadPoolExecutor runners;
    private final ScheduledExecutorService scheduler;
    private final Map<String, InFlight> inFlight = new ConcurrentHashMap<>();
    private final AtomicInteger slotsUsed = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private final Set<Integer> owned;
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong handedBack = new AtomicLong();
    private final AtomicLong refusedTasks = new AtomicLong();
    private final AtomicLong earnings = new AtomicLong();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean drainRequested = new AtomicBoolean();
    private final CountDownLatch drained = new CountDownLatch(1);
    private volatile boolean draining;
    private volatile boolean paused;
    private volatile boolean closed;
    /** Offsets of tasks taken whose commit is not confirmed yet; only the poll thread touches them. */
    private final Map<TopicPartition, OffsetAndMetadata> uncommitted = new HashMap<>();
    private long lastCommitMs;
    static final long COMMIT_INTERVAL_MS = 100;
    private volatile String lastError = "";
    /** Why the first registration waits (an outage), or null: /health is DEGRADED meanwhile. */
    private volatile String registering;
    private volatile String loopFailure = "";
    private volatile WorkerCapabilities capabilities;
    private volatile ScheduledFuture<?> heartbeats;
    /** Registered and not left: its beats go out (on its own schedule, or in its host's rounds). */
    private volatile boolean beating;
    /** A host's rounds run one at a time (its schedule, a rebalance, an identity's start, the drain). */
    private final Object rounds = new Object();
    /** The most image digests a heartbeat lists (the matcher's bound: market's InputBounds). */
    static final int HEARTBEAT_DIGESTS = 64;
    /** The proof of hardware this agent registered with (the host's, for a co-hosted identity). */
    private volatile ProofOfHardware.Proof proof;
    /** The host's latest proof and when its challenge was asked ({@link #proofForRegistration}). */
    private final Object proofLock = new Object();
    private ProofOfHardware.Proof hostProof;
    private long hostProofAtNanos;
    /** The bandwidth this host registered with (measured once per host; its identities share the link). */
    private volatile HardwareProbes.Bandwidth bandwidth;
    /** The host's background measure of its bandwidth while the market's probe fails ({@link #measureBandwidthLater}). */
    private volatile Thread bandwidthRetry;
    private Thread pollThread;

    /** {@code sealKeys}: the worker's X25519 keys; the public one is registered, the matcher seals task specs to it. */
    public WorkerAgent(WorkerConfig cfg, MessageSigner signer, TaskSeal.Keys sealKeys, Consumer<String, byte[]> consumer,
                       Producer<byte[], byte[]> producer, AgoraSerdes serdes, Sandbox sandbox,
                       CircuitBreaker engineBreaker, CircuitBreaker produceBreaker) {
        this(cfg, signer, sealKeys, consumer, producer, serdes, serdes.avroSerde(WorkerRegistration.class).serializer(), sandbox,
                engineBreaker, produceBreaker);
    }

    /** {@code registrations}: how registrations are written (the schema registry's edge; a test's may fail on purpose). */
    WorkerAgent(WorkerConfig cfg, MessageSigner signer, TaskSeal.Keys sealKeys, Consumer<String, byte[]> consumer,
                Producer<byte[], byte[]> producer, AgoraSerdes serdes, Serializer<WorkerRegistration> registrations,
                Sandbox sandbox, CircuitBreaker engineBreaker, CircuitBreaker produceBreaker) {
        this.cfg = cfg;
        this.signer = signer;
        this.sealKeys = sealKeys;
        this.host = this;
        this.owned = ConcurrentHashMap.newKeySet();
        this.consumer = consumer;
        this.producer = producer;
        this.sandbox = sandbox;
        this.engineBreaker = engineBreaker;
        this.produceBreaker = produceBreaker;
        this.taskDeserializer = serdes.avroSerde(TaskAssigned.class).deserializer();
        this.resultSerializer = serdes.avroSerde(TaskResult.class).serializer();
        this.heartbeatSerializer = serdes.avroSerde(Heartbeat.class).serializer();
        this.hostBeatSerializer = serdes.avroSerde(HostHeartbeat.class).serializer();
        this.quietHeartbeats = new QuietHeartbeats(cfg.heartbeatIdleMs());
        this.registrationSerializer = registrations;
        this.runners = new ThreadPoolExecutor(cfg.maxConcurrent(), cfg.maxConcurrent(), 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), named("worker-task"));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(named("worker-heartbeat"));
    }

    /** A co-hosted identity: everything but its signer, its seal keys and its counts is the host's. */
    private WorkerAgent(WorkerAgent host, MessageSigner signer, TaskSeal.Keys sealKeys) {
        this.cfg = host.cfg;
        this.signer = signer;
        this.sealKeys = sealKeys;
        this.host = host;
        this.owned = host.owned;
        this.consumer = null;
        this.producer = host.producer;
        this.sandbox = host.sandbox;
        this.engineBreaker = host.engineBreaker;
        this.produceBreaker = host.produceBreaker;
        this.taskDeserializer = host.taskDeserializer;
        this.resultSerializer = host.resultSerializer;
        this.heartbeatSerializer = host.heartbeatSerializer;
        this.hostBeatSerializer = host.hostBeatSerializer;
        this.quietHeartbeats = new QuietHeartbeats(cfg.heartbeatIdleMs());
        this.registrationSerializer = host.registrationSerializer;
        this.runners = host.runners;
        this.scheduler = host.scheduler;
    }

    /**
     * Hosts one more worker identity in this agent, before {@link #start}: it registers on its own,
     * beats in the host's rounds and runs the tasks addressed to it on this agent's task threads (their
     * number grows with the slots hosted, up to {@value #MAX_HOST_THREADS}).
     */
    public WorkerAgent coHost(MessageSigner identity, TaskSeal.Keys sealKeys) {
        if (host != this || started.get()) {
            throw new IllegalStateException("identities are co-hosted by a host agent before it starts");
        }
        WorkerAgent a = new WorkerAgent(this, identity, sealKeys);
        hosted.put(identity.workerId(), a);
        int threads = Math.min(MAX_HOST_THREADS, cfg.maxConcurrent() * (1 + hosted.size()));
        runners.setMaximumPoolSize(Math.max(threads, runners.getMaximumPoolSize()));
        runners.setCorePoolSize(runners.getMaximumPoolSize());
        return a;
    }

    static final int MAX_HOST_THREADS = 64;

    /** This agent and the identities it hosts. */
    private List<WorkerAgent> group() {
        if (hosted.isEmpty()) {
            return List.of(this);
        }
        List<WorkerAgent> all = new ArrayList<>(1 + hosted.size());
        all.add(this);
        all.addAll(hosted.values());
        return all;
    }

    public String workerId() {
        return signer.workerId();
    }

    public WorkerCapabilities capabilities() {
        return capabilities;
    }

    /**
     * The host's proof of hardware: the JIT warmed up first, then the market's challenge for every identity
     * it runs ({@link PohChallenges}), then the timed chain from it, so the time from challenge to
     * registration is the benchmark's own. Without a challenge, a local seed the matcher does not trust.
     */
    private ProofOfHardware.Proof benchmark(long seq) {
        ProofOfHardware.warmUp(cfg.benchmarkMs());
        List<String> ids = new ArrayList<>();
        ids.add(workerId());
        ids.addAll(hosted.keySet());
        String seed = PohChallenges.fetch(java.net.URI.create(cfg.apiUrl()), ids)
                .orElseGet(() -> ProofOfHardware.seed(workerId(), seq));
        return ProofOfHardware.timed(seed, cfg.benchmarkMs());
    }

    @Override
    public void start() {
        if (!started.compareAndSet(false, true)) {
            return;
        }
        int leftovers = sandbox.removeLeftovers();
        if (leftovers > 0) {
            log.warn("removed {} containers a previous run of this worker left behind", leftovers);
        }
        long seq = signer.seqClock().next();
        sandbox.probe().ifPresent(r -> lastError = r);
        List<String> served = sandbox.localImages().stream()
                .filter(i -> AllowedImages.admits(cfg.allowedImages(), i)).toList();
        HardwareProbes.Bandwidth bandwidth = host == this
                ? Capabilities.bandwidth(cfg, path -> signer.authorization("GET", path), List.copyOf(hosted.keySet()))
                : host.bandwidth;
        this.bandwidth = bandwidth;
        AtomicBoolean firstTry = new AtomicBoolean(true);
        Optional<WorkerCapabilities> registered; // register() sets capabilities
        try {
            // a registry outage (its schema not cached yet) is waited out, with a new proof and seq for each try
            registered = throughOutages(() -> register(firstTry.getAndSet(false) ? seq : signer.seqClock().next(), served, bandwidth),
                    () -> drainRequested.get() || closed, why -> {
                        registering = why;
                        lastError = why;
                        log.warn("worker {}: {}", workerId(), why);
                    }, Thread::sleep);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return; // closed while waiting
        } finally {
            registering = null;
        }
        if (registered.isEmpty()) {
            return; // drained or closed while waiting for the registry
        }
        if (drainRequested.get()) {
            return; // drained while starting: drain() already deregistered
        }
        beating = true;
        if (host != this) {
            // a co-hosted identity beats in its host's rounds (one record per partition for all of them): its first now
            scheduler.execute(host::heartbeatSafely);
            return;
        }
        heartbeats = scheduler.scheduleAtFixedRate(this::heartbeatSafely, 0, cfg.heartbeatIntervalMs(), TimeUnit.MILLISECONDS);
        if (!hosted.isEmpty()) {
            log.info("worker {} hosts {} more identities", workerId(), hosted.size());
        }
        for (WorkerAgent a : hosted.values()) {
            a.start();
        }
        pollThread = new Thread(this::pollLoop, "worker-poll");
        pollThread.start();
        if (Capabilities.measuresAgainstMarket(cfg)) {
            bandwidthRetry = named("worker-bandwidth").newThread(this::measureBandwidthLater);
            bandwidthRetry.start();
        }
    }

    /** Sends this identity's first registration, its proof made last (the probes before may be slow); the capabilities sent. */
    private WorkerCapabilities register(long seq, List<String> served, HardwareProbes.Bandwidth bandwidth) {
        // last before the registration: the challenge's window runs from its fetch
        ProofOfHardware.Proof proof = host.proofForRegistration(seq, false);
        this.proof = proof;
        WorkerCapabilities caps = WorkerCapabilities.newBuilder(Capabilities.detect(cfg, proof.score(), served, bandwidth))
                .setBenchmarkProof(proof.toEvent()).setSealKey(sealKeys.publicKey())
                .setPullAllowlist(sandbox.pullAllowlist().orElse(null)).build();
        log.info("worker {} registering in pool {}: {} cores, {} MB, benchmark {} (proof {} after {} steps), mode {}",
                workerId(), cfg.pool(), caps.getCpuCores(), caps.getMemoryMb(), proof.score(),
                proof.proofHash(), proof.steps(), cfg.mode());
        capabilities = caps; // before the send: a drain meanwhile deregisters it
        try {
            sendRegistration(signer.registration(RegistrationType.REGISTERED, caps, cfg.stakeMicros(), seq), proof);
        } catch (RuntimeException e) {
            capabilities = null; // not sent: nothing to deregister
            throw e;
        }
        return caps;
    }

    /** A pause between two tries; {@link Thread#sleep} in service. */
    interface Pause {
        void sleep(long ms) throws InterruptedException;
    }

    /**
     * Calls {@code attempt} until it does not fail on an {@link Outage} (the schema registry away at start, its
     * schemas not cached yet), pausing {@link Outage#pauseMs} between tries and telling {@code waiting} why; empty
     * once {@code stop} says to give up (drained or closed). Any other failure is thrown.
     */
    static <T> Optional<T> throughOutages(java.util.function.Supplier<T> attempt, java.util.function.BooleanSupplier stop,
                                          java.util.function.Consumer<String> waiting, Pause pause) throws InterruptedException {
        for (int tries = 0; !stop.getAsBoolean(); tries++) {
            try {
                return Optional.of(attempt.get());
            } catch (RuntimeException e) {
                Optional<String> outage = Outage.of(e);
                if (outage.isEmpty()) {
                    throw e;
                }
                long ms = Outage.pauseMs(tries);
                waiting.accept("not registered, trying again in " + ms + " ms: " + outage.get());
                pause.sleep(ms);
            }
        }
        return Optional.empty();
    }

    /**
     * The host's bandwidth while the market's probe fails at start (ingest-api not reachable yet, busy,
     * refusing): measured again after one heartbeat interval, then twice as long each time up to
     * {@value #BANDWIDTH_RETRY_MAX_MS} ms, until it succeeds or the worker drains; then every identity of the
     * host registers again with the figure and its attestation, and with a fresh proof of hardware (the one of
     * the start may be past its challenge's window, or answer none if the API was away then too).
     */
    private void measureBandwidthLater() {
        Backoff backoff = new Backoff(Math.max(1, cfg.heartbeatIntervalMs()), BANDWIDTH_RETRY_MAX_MS);
        java.net.URI api = java.net.URI.create(cfg.apiUrl());
        try {
            for (int attempt = 0; !draining && !closed; attempt++) {
                Thread.sleep(backoff.delayMs(attempt));
                Optional<HardwareProbes.Bandwidth> measured = HardwareProbes.marketBandwidth(api,
                        path -> signer.authorization("GET", path), List.copyOf(hosted.keySet()));
                if (measured.isPresent()) {
                    bandwidth = measured.get();
                    for (WorkerAgent a : group()) {
                        a.registerAgain(measured.get());
                    }
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // drained or closed: nothing to register
        } catch (RuntimeException e) {
            log.warn("bandwidth not measured: {}", e.toString());
        }
    }

    static final long BANDWIDTH_RETRY_MAX_MS = 300_000;

    /** A new registration with the measured bandwidth ({@link #registerWithFreshProof}); none once draining. */
    private synchronized void registerAgain(HardwareProbes.Bandwidth measured) {
        if (draining || closed || capabilities == null) {
            return;
        }
        this.bandwidth = measured;
        capabilities = WorkerCapabilities.newBuilder(capabilities).setNetworkMbps(measured.mbps())
                .setNetworkAttestation(measured.attestation()).build();
        log.info("worker {} registering again: bandwidth {} Mbit/s ({})", workerId(), measured.mbps(),
                measured.attestation() == null ? "unattested" : "attested by the market");
        registerWithFreshProof(false);
    }

    /**
     * A new registration with a proof answering a market challenge fetched just before ({@link #proofForRegistration});
     * {@code renew}: a new challenge whatever the age of the current one (the last proof arrived past its window).
     * None once draining ({@link #leave} holds the same lock). One that meets an outage is sent again later
     * ({@link #registerAfterOutage}); the worker's last registration stands meanwhile.
     */
    private void registerWithFreshProof(boolean renew) {
        registerWithFreshProof(renew, 0);
    }

    /** {@code tries}: the registrations in a row that met an outage before this one. */
    private synchronized void registerWithFreshProof(boolean renew, int tries) {
        if (draining || closed || capabilities == null) {
            return;
        }
        if (renew) {
            host.forgetProof();
        }
        long seq = signer.seqClock().next();
        ProofOfHardware.Proof fresh = host.proofForRegistration(seq, true);
        this.proof = fresh;
        capabilities = WorkerCapabilities.newBuilder(capabilities).setBenchmarkScore(fresh.score())
                .setBenchmarkProof(fresh.toEvent()).build();
        try {
            sendRegistration(signer.registration(RegistrationType.REGISTERED, capabilities, cfg.stakeMicros(), seq), fresh, tries);
        } catch (RuntimeException e) {
            if (!registerAfterOutage(e, tries)) {
                throw e;
            }
        }
    }

    /**
     * After a registration met an outage (the schema registry or Kafka away): the next one, with a fresh proof and
     * seq, {@link Outage#pauseMs} later, until one is sent or the worker drains; false when the failure is no outage.
     */
    private boolean registerAfterOutage(Throwable failure, int tries) {
        Optional<String> outage = Outage.of(failure);
        if (outage.isEmpty()) {
            return false;
        }
        long ms = Outage.pauseMs(tries);
        lastError = "not registered again, trying again in " + ms + " ms: " + outage.get();
        log.warn("worker {}: {}", workerId(), lastError);
        if (!scheduler.isShutdown()) {
            ScheduledFuture<?> next = scheduler.schedule(() -> {
                try {
                    registerWithFreshProof(false, tries + 1);
                } catch (RuntimeException e) {
                    lastError = "registration failed: " + CircuitBreaker.describe(e);
                    log.error("worker {}: {}", workerId(), lastError, e);
                }
            }, ms, TimeUnit.MILLISECONDS);
            ScheduledFuture<?> earlier = registrationRetry.getAndSet(next);
            if (earlier != null) {
                earlier.cancel(false); // the new one registers the latest capabilities: one retry waits at a time
            }
        }
        return true;
    }

    /** The registration waiting out an outage ({@link #registerAfterOutage}), or null. */
    private final AtomicReference<ScheduledFuture<?>> registrationRetry = new AtomicReference<>();

    private void sendRegistration(WorkerRegistration reg, ProofOfHardware.Proof answering) {
        sendRegistration(reg, answering, 0);
    }

    /**
     * Sends a registration; when the broker appended it (the time the matcher checks) past its challenge's window
     * ({@link ProofFreshness#staleOnArrival}), the matcher refuses its proof as stale: registers again with a new
     * challenge, at most {@value #STALE_REREGISTRATIONS} times in a row. One the broker did not take during an
     * outage is sent again ({@link #registerAfterOutage}); one the registry cannot write throws.
     */
    private void sendRegistration(WorkerRegistration reg, ProofOfHardware.Proof answering, int tries) {
        send(Topics.REGISTRATIONS.name(), workerId(), registrationSerializer.serialize(Topics.REGISTRATIONS.name(), reg), null,
                (md, ex) -> {
                    if (ex != null) {
                        if (!registerAfterOutage(ex, tries)) {
                            log.error("worker {}: registration not sent: {}", workerId(), CircuitBreaker.describe(ex));
                        }
                        return;
                    }
                    if (md == null || !md.hasTimestamp()) {
                        return;
                    }
                    if (!ProofFreshness.staleOnArrival(answering.seed(), md.timestamp())) {
                        staleRegistrations.set(0);
                    } else if (staleRegistrations.incrementAndGet() <= STALE_REREGISTRATIONS && !scheduler.isShutdown()) {
                        log.warn("worker {}: registration arrived {} ms after its challenge, past the market's window: "
                                + "registering again with a new one", workerId(),
                                md.timestamp() - io.agora.market.PohChallenge.parse(answering.seed()).issuedAt());
                        scheduler.execute(() -> registerWithFreshProof(true));
                    }
                });
    }

    static final int STALE_REREGISTRATIONS = 3;
    private final AtomicInteger staleRegistrations = new AtomicInteger();

    /** The next registration asks a new challenge whatever the current one's age. */
    private void forgetProof() {
        synchronized (proofLock) {
            hostProof = null;
        }
    }

    /**
     * The host's proof for a registration about to be sent ({@link ProofFreshness}): the current one while its
     * challenge was fetched at most {@link ProofFreshness#MAX_AGE_MS} ago, else a new one from a new challenge;
     * with {@code marketChallengeWanted} a proof on a local seed (the market was away) is made again too.
     * Called on the host; its identities share the proof (one challenge names them all).
     */
    private ProofOfHardware.Proof proofForRegistration(long seq, boolean marketChallengeWanted) {
        synchronized (proofLock) {
            long now = System.nanoTime();
            if (ProofFreshness.renew(hostProof, (now - hostProofAtNanos) / 1_000_000, marketChallengeWanted)) {
                hostProofAtNanos = now; // its age counts from before the challenge is asked
                hostProof = benchmark(seq);
            }
            return hostProof;
        }
    }

    // ---------------------------------------------------------------- poll loop (the only consumer thread)

    private void pollLoop() {
        long drainDeadline = Long.MAX_VALUE;
        try {
            consumer.subscribe(List.of(Topics.TASKS.name()), new Ownership());
            while (true) {
                if (draining) {
                    if (drainDeadline == Long.MAX_VALUE) {
                        drainDeadline = System.currentTimeMillis() + cfg.drainTimeoutMs();
                    }
                    group().forEach(a -> a.handBackQueued("worker draining"));
                    if (group().stream().mapToInt(a -> a.running.get()).sum() == 0
                            || System.currentTimeMillis() > drainDeadline) {
                        break;
                    }
                }
                updatePause();
                ConsumerRecords<String, byte[]> records;
                try {
                    records = consumer.poll(Duration.ofMillis(cfg.pollMs()));
                } catch (WakeupException e) {
                    continue;
                }
                Map<TopicPartition, OffsetAndMetadata> taken = new HashMap<>();
                Set<TopicPartition> readAgain = new java.util.HashSet<>();
                for (ConsumerRecord<String, byte[]> rec : records) {
                    TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
                    if (readAgain.contains(tp)) {
                        continue;
                    }
                    if (!take(rec)) {
                        consumer.seek(tp, rec.offset()); // an outage: this record and the rest of its partition again
                        readAgain.add(tp);
                        continue;
                    }
                    taken.put(tp, new OffsetAndMetadata(rec.offset() + 1));
                }
                uncommitted.putAll(taken);
                maybeCommit();
                outagesInARow = readAgain.isEmpty() ? 0 : outagesInARow + 1;
                if (!readAgain.isEmpty()) {
                    Thread.sleep(OUTAGE_BACKOFF.delayMs(outagesInARow - 1));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // closed while waiting out an outage
        } catch (RuntimeException e) {
            lastError = "poll loop failed: " + CircuitBreaker.describe(e);
            loopFailure = ": " + CircuitBreaker.describe(e);
            log.error("worker poll loop failed", e);
        } catch (Error e) {
            loopFailure = ": " + CircuitBreaker.describe(e);
            throw e;
        } finally {
            finishDrain();
        }
    }

    private void updatePause() {
        List<WorkerAgent> group = group();
        boolean shouldPause = draining || degradedReason() != null
                || group.stream().mapToInt(a -> a.slotsUsed.get()).sum() >= cfg.slots() * group.size();
        if (shouldPause) {
            consumer.pause(consumer.assignment());
        } else if (paused) {
            consumer.resume(consumer.paused());
        }
        paused = shouldPause;
    }

    /**
     * Takes one task record: runs, queues, hands back, skips or dead-letters it, and answers true; false when
     * it cannot be read during an {@link Outage} (the schema registry away): nothing is dead-lettered and the
     * poll loop reads it again after a pause.
     */
    private boolean take(ConsumerRecord<String, byte[]> rec) {
        TaskAssigned task;
        try {
            task = taskDeserializer.deserialize(rec.topic(), rec.value());
        } catch (RuntimeException e) {
            Optional<String> outage = Outage.of(e);
            if (outage.isPresent()) {
                lastError = "cannot read task at " + rec.topic() + "-" + rec.partition() + "@" + rec.offset()
                        + ", reading it again: " + outage.get();
                log.warn(lastError);
                return false;
            }
            String reason = "undecodable TaskAssigned: " + CircuitBreaker.describe(e);
            log.warn("{} at {}-{}@{}", reason, rec.topic(), rec.partition(), rec.offset());
            byte[] key = rec.key() == null ? null : rec.key().getBytes(StandardCharsets.UTF_8);
            sendRaw(DeadLetters.record(APP, reason, rec.topic(), rec.partition(), rec.offset(), key, rec.value()));
            return true;
        }
        if (task == null) {
            return true;
        }
        Optional<String> forged = Assignments.problem(task, cfg.matcherKey());
        if (forged.isPresent()) {
            // not the matcher's: neither run nor handed back (a hand-back would answer for a task that does not exist)
            refusedTasks.incrementAndGet();
            log.warn("skipping task {} at {}-{}@{}: {}", task.getTaskId(), rec.topic(), rec.partition(), rec.offset(),
                    forged.get());
            return true;
        }
        Headers trace = new RecordHeaders(); // the task's trace, continued by its result
        Traces.hop("worker", SpanKind.CONSUMER, rec.headers(), trace);
        WorkerAgent to = workerId().equals(task.getWorkerId()) ? this : hosted.get(String.valueOf(task.getWorkerId()));
        if (to == null) {
            log.info("task {} addressed to {} arrived here: handing it back", task.getTaskId(), task.getWorkerId());
            handedBack.incrementAndGet();
            publish(signer.handBack(task, "misrouted: addressed to " + task.getWorkerId()), null, 0, trace);
            return true;
        }
        to.accept(task, trace);
        return true;
    }

    /** A task addressed to this identity: queued on the task threads unless already here or draining. */
    private void accept(TaskAssigned task, Headers trace) {
        if (inFlight.containsKey(task.getTaskId())) {
            return; // redelivered after a rebalance: it is already here
        }
        if (task.getSealedSpec() != null) {
            try {
                task = TaskSeal.open(task, sealKeys);
            } catch (IllegalArgumentException e) {
                log.warn("handing back task {}: {}", task.getTaskId(), e.getMessage());
                handedBack.incrementAndGet();
                publish(signer.handBack(task, "sealed spec does not open with this worker's key"), null, 0, trace);
                return;
            }
        }
        if (draining || host.draining) {
            handedBack.incrementAndGet();
            publish(signer.handBack(task, "worker draining"), null, 0, trace);
            return;
        }
        InFlight f = new InFlight(task, trace);
        inFlight.put(task.getTaskId(), f);
        slotsUsed.incrementAndGet();
        runners.execute(() -> execute(f));
    }

    /**
     * Commits what was taken, at most every {@value #COMMIT_INTERVAL_MS} ms and without waiting:
     * the poll loop goes back to fetching at once. A lost commit only means a redelivery, which
     * the worker skips (in flight) or the new owner hands back as misrouted; partitions leaving
     * this worker get their last offsets committed synchronously first ({@link Ownership}).
     */
    private void maybeCommit() {
        long now = System.currentTimeMillis();
        if (uncommitted.isEmpty() || now - lastCommitMs < COMMIT_INTERVAL_MS) {
            return;
        }
        lastCommitMs = now;
        consumer.commitAsync(new HashMap<>(uncommitted), (done, e) -> {
            if (e != null) {
                log.warn("commit of {} failed: {}", done, e.toString());
            } else {
                done.forEach(uncommitted::remove);
            }
        });
    }

    /** Commits, waiting for the answer, what was taken on {@code partitions}: before they leave, or the worker does. */
    private void commitNow(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> leaving = new HashMap<>();
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata o = uncommitted.remove(tp);
            if (o != null) {
                leaving.put(tp, o);
            }
        }
        if (leaving.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(leaving);
        } catch (KafkaException e) {
            log.warn("commit of {} failed: {}", leaving, e.toString());
        }
    }

    /** Tracks the partitions this worker owns; they are listed in heartbeats. */
    private final class Ownership implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            partitions.forEach(tp -> owned.add(tp.partition()));
            if (paused) {
                consumer.pause(partitions);
            }
            log.info("owns task partitions {}", new TreeSet<>(owned));
            if (!closed && !scheduler.isShutdown()) {
                scheduler.execute(WorkerAgent.this::heartbeatSafely); // a host's round carries every identity's beat
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            commitNow(partitions);
            partitions.forEach(tp -> owned.remove(tp.partition()));
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            partitions.forEach(tp -> {
                owned.remove(tp.partition());
                uncommitted.remove(tp);
            });
        }
    }

    // ---------------------------------------------------------------- running tasks

    private void execute(InFlight f) {
        if (!f.phase.compareAndSet(Phase.QUEUED, Phase.RUNNING)) {
            return; // handed back while queued
        }
        running.incrementAndGet();
        TaskAssigned task = f.task;
        // the run is a span of its own, child of the task's arrival; its result continues it
        Span run = Traces.start("worker run", SpanKind.INTERNAL, Traces.parent(f.trace));
        SandboxOutcome o;
        Optional<String> refused = cfg.caps().refusal(task.getSpec());
        try {
            if (refused.isPresent()) {
                long now = System.currentTimeMillis();
                o = SandboxOutcome.failed(ResultStatus.SANDBOX_ERROR, refused.get(), now, now);
            } else {
                o = sandbox.run(task);
            }
        } catch (RuntimeException | Error e) {
            long now = System.currentTimeMillis();
            o = SandboxOutcome.failed(ResultStatus.SANDBOX_ERROR, CircuitBreaker.describe(e), now, now);
        } finally {
            running.decrementAndGet();
        }
        f.phase.set(Phase.DONE);
        TaskResult result;
        if (f.abandoned) {
            handedBack.incrementAndGet();
            result = signer.handBack(task, "worker drained before the task finished");
        } else {
            result = signer.result(task, o, cfg.outputInlineLimit());
            if (o.status() == ResultStatus.SUCCEEDED) {
                done.incrementAndGet();
                earnings.addAndGet(Pricing.payout(Pricing.Rates.prices(task), task.getMinPricePerJobMicros(),
                        Pricing.Rates.ceilings(task.getTerms()), o.durationMs(), task.getSpec()));
            } else {
                failed.incrementAndGet();
                if (o.status() == ResultStatus.SANDBOX_ERROR) {
                    lastError = "task " + task.getTaskId() + ": " + o.reason();
                }
            }
            log.info("task {} {} in {} ms{}", task.getTaskId(), o.status(), o.durationMs(),
                    o.reason() == null ? "" : " (" + o.reason() + ")");
        }
        run.setAttribute("agora.task.status", result.getStatus().name());
        Headers trace = new RecordHeaders();
        Traces.inject(Context.root().with(run), trace);
        run.end();
        publish(result, task.getTaskId(), 0, trace);
        releaseSlot();
    }

    private void releaseSlot() {
        int used = slotsUsed.decrementAndGet();
        if (host.paused && used < cfg.slots() && !host.draining) {
            host.consumer.wakeup(); // thread-safe; lets the poll loop resume at once
        }
    }

    private void handBackQueued(String reason) {
        for (InFlight f : inFlight.values()) {
            if (f.phase.compareAndSet(Phase.QUEUED, Phase.HANDED_BACK)) {
                handedBack.incrementAndGet();
                publish(signer.handBack(f.task, reason), f.task.getTaskId(), 0, f.trace);
                slotsUsed.decrementAndGet();
            }
        }
    }

    // ---------------------------------------------------------------- producing

    /** Produces a result; on failure retries with backoff, keeping the task in heartbeats meanwhile. */
    private void publish(TaskResult r, String inFlightId, int attempt, Headers trace) {
        byte[] value;
        try {
            value = resultSerializer.serialize(Topics.RESULTS.name(), r);
        } catch (RuntimeException e) {
            onResultFailure(r, inFlightId, attempt, e, trace);
            return;
        }
        send(Topics.RESULTS.name(), r.getJobId(), value, trace, ex -> {
            if (ex == null) {
                if (inFlightId != null) {
                    inFlight.remove(inFlightId);
                }
            } else {
                onResultFailure(r, inFlightId, attempt, ex, trace);
            }
        });
    }

    private void onResultFailure(TaskResult r, String inFlightId, int attempt, Throwable ex, Headers trace) {
        lastError = "result of " + r.getTaskId() + " not produced: " + CircuitBreaker.describe(ex);
        if (attempt + 1 < cfg.resultRetries() && !scheduler.isShutdown()) {
            log.warn("{}; retry {} in {} ms", lastError, attempt + 1, resultBackoff.delayMs(attempt));
            scheduler.schedule(() -> publish(r, inFlightId, attempt + 1, trace), resultBackoff.delayMs(attempt), TimeUnit.MILLISECONDS);
        } else {
            log.error("{}; giving up, the lease will reassign the task", lastError);
            if (inFlightId != null) {
                inFlight.remove(inFlightId);
            }
        }
    }

    private void send(String topic, String key, byte[] value, java.util.function.Consumer<Exception> then) {
        send(topic, key, value, null, then);
    }

    private void send(String topic, String key, byte[] value, Headers headers, java.util.function.Consumer<Exception> then) {
        send(topic, key, value, headers, then == null ? null : (md, ex) -> then.accept(ex));
    }

    /** Sends, {@code then} told the record's metadata (null on failure) and the failure (null on success). */
    private void send(String topic, String key, byte[] value, Headers headers, Callback then) {
        try {
            producer.send(new ProducerRecord<>(topic, null, key.getBytes(StandardCharsets.UTF_8), value, headers), (md, ex) -> {
                if (ex == null) {
                    produceBreaker.onSuccess();
                } else {
                    produceBreaker.onFailure("kafka produce failing: " + CircuitBreaker.describe(ex));
                    lastError = produceBreaker.lastError();
                }
                if (then != null) {
                    then.onCompletion(md, ex);
                }
            });
        } catch (RuntimeException e) {
            produceBreaker.onFailure("kafka produce failing: " + CircuitBreaker.describe(e));
            lastError = produceBreaker.lastError();
            if (then != null) {
                then.onCompletion(null, e);
            }
        }
    }

    private void sendRaw(ProducerRecord<byte[], byte[]> rec) {
        try {
            producer.send(rec);
        } catch (RuntimeException e) {
            log.error("cannot write to the DLQ: {}", e.toString());
        }
    }

    // ---------------------------------------------------------------- heartbeats and status

    /** This identity's heartbeat; a host's round of every identity's ({@link #hostHeartbeat}) when it hosts others. */
    /** A heartbeat acknowledged later than this is logged: past the matcher's grace (10 s) the worker counts as silent. */
    private static final long SLOW_BEAT_MS = 3_000;

    private void heartbeatSafely() {
        try {
            if (host.hosted.isEmpty()) {
                heartbeat();
            } else {
                host.hostHeartbeat();
            }
        } catch (RuntimeException e) {
            lastError = "heartbeat failed: " + CircuitBreaker.describe(e);
            log.warn(lastError, e);
        }
    }

    /** What this identity's heartbeat reports now. */
    private QuietHeartbeats.Report report() {
        WorkerStatus status = status();
        int free = status == WorkerStatus.READY || status == WorkerStatus.FULL
                ? Math.max(0, cfg.slots() - slotsUsed.get()) : 0;
        return new QuietHeartbeats.Report(cfg.pool(), status, statusReason(status), free, load(),
                listedTasks(), new ArrayList<>(new TreeSet<>(owned)),
                cfg.pricePerCpuSecondMicros(), sandbox.imageDigests(HEARTBEAT_DIGESTS));
    }

    /**
     * The tasks a heartbeat lists: those queued or running first (their leases need renewing), then those whose
     * result awaits the broker's acknowledgement, each in id order, at most {@link Limits#HEARTBEAT_TASKS_MAX}:
     * with every slot busy, results still awaiting their acks made the list longer than the matcher accepts, it
     * dead-lettered every heartbeat and called the worker silent (256 slots per worker, issue 11).
     */
    private List<String> listedTasks() {
        TreeSet<String> open = new TreeSet<>();
        TreeSet<String> done = new TreeSet<>();
        inFlight.forEach((id, f) -> (f.phase.get() == Phase.DONE || f.phase.get() == Phase.HANDED_BACK ? done : open).add(id));
        List<String> out = new ArrayList<>(Math.min(Limits.HEARTBEAT_TASKS_MAX, open.size() + done.size()));
        for (String id : open) {
            if (out.size() < Limits.HEARTBEAT_TASKS_MAX) {
                out.add(id);
            }
        }
        for (String id : done) {
            if (out.size() < Limits.HEARTBEAT_TASKS_MAX) {
                out.add(id);
            }
        }
        return out;
    }

    private void probeEngine() {
        if (!engineBreaker.isClosed() && engineBreaker.state() == CircuitBreaker.State.HALF_OPEN) {
            sandbox.probe(); // the half-open trial: closes the breaker when the engine answers
        }
    }

    private void heartbeat() {
        if (closed) {
            return;
        }
        probeEngine();
        QuietHeartbeats.Report r = report();
        if (!quietHeartbeats.send(r, System.currentTimeMillis())) {
            return;
        }
        Heartbeat hb = signer.heartbeat(r.pool(), r.status(), r.reason(), r.freeSlots(), r.load(), r.inFlight(),
                r.owned(), r.price(), r.images());
        long sentAt = System.currentTimeMillis();
        send(Topics.HEARTBEATS.name(), workerId(), heartbeatSerializer.serialize(Topics.HEARTBEATS.name(), hb), null, (Callback) (md, ex) -> {
            long ms = System.currentTimeMillis() - sentAt;
            if (ex == null && ms > SLOW_BEAT_MS) {
                log.warn("heartbeat acknowledged {} ms after it was sent ({} tasks in flight): the market hears it that late",
                        ms, hb.getInFlightTaskIds().size());
            }
        });
        signer.seqClock().save();
    }

    /**
     * A host's round (on the host): the beat of every identity that has something to send ({@link QuietHeartbeats}),
     * signed by the identity, grouped by the partition its records go to ({@link HostBeats#partition}), one record per
     * group (of at most {@link HostBeats#MAX_BEATS} beats) signed by the host, keyed by the group's first identity.
     */
    private void hostHeartbeat() {
        synchronized (rounds) {
            if (!closed) {
                probeEngine();
                hostRound();
            }
        }
    }

    private void hostRound() {
        long now = System.currentTimeMillis();
        List<Map.Entry<WorkerAgent, QuietHeartbeats.Report>> due = new ArrayList<>();
        for (WorkerAgent a : group()) {
            if (!a.beating) {
                continue;
            }
            QuietHeartbeats.Report r = a.report();
            if (a.quietHeartbeats.send(r, now)) {
                due.add(Map.entry(a, r));
            }
        }
        for (List<Map.Entry<WorkerAgent, QuietHeartbeats.Report>> record : HostBeats.records(due, e -> e.getKey().workerId())) {
            long seq = signer.seqClock().next();
            List<HostedBeat> beats = new ArrayList<>(record.size());
            for (var e : record) {
                beats.add(e.getKey().signer.hostedBeat(workerId(), seq, e.getValue()));
            }
            HostHeartbeat hb = signer.hostHeartbeat(seq, beats);
            send(Topics.HOST_BEATS.name(), beats.get(0).getWorkerId(),
                    hostBeatSerializer.serialize(Topics.HOST_BEATS.name(), hb), null);
        }
        if (!due.isEmpty()) {
            signer.seqClock().save();
        }
    }

    /** Why the worker takes no tasks though it is up, or null. */
    private String degradedReason() {
        String waiting = registering;
        if (waiting != null) {
            return waiting;
        }
        if (!engineBreaker.isClosed()) {
            return engineBreaker.lastError();
        }
        if (!produceBreaker.isClosed()) {
            return produceBreaker.lastError();
        }
        return null;
    }

    public WorkerStatus status() {
        if (draining) {
            return WorkerStatus.DRAINING;
        }
        if (degradedReason() != null) {
            return WorkerStatus.DEGRADED;
        }
        return slotsUsed.get() >= cfg.slots() ? WorkerStatus.FULL : WorkerStatus.READY;
    }

    private String statusReason(WorkerStatus s) {
        return switch (s) {
            case DEGRADED -> degradedReason();
            case DRAINING -> "draining";
            default -> null;
        };
    }

    private double load() {
        return Math.min(1.0, running.get() / (double) cfg.maxConcurrent());
    }

    /**
     * Why the worker is dead though its process lives, or null: the task loop or the heartbeats
     * ended without a drain being asked for. Its probe must fail so that it gets restarted.
     */
    private String deadReason() {
        if (drainRequested.get()) {
            return null;
        }
        Thread loop = pollThread;
        if (loop != null && !loop.isAlive()) {
            return "task loop stopped" + loopFailure;
        }
        ScheduledFuture<?> hb = heartbeats;
        if (hb != null && hb.isDone()) {
            return "heartbeats stopped";
        }
        return null;
    }

    @Override
    public Map<String, Object> health() {
        WorkerStatus s = status();
        String dead = deadReason();
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("status", dead != null ? "DOWN" : s == WorkerStatus.READY || s == WorkerStatus.FULL ? "UP" : s.name());
        h.put("workerStatus", s.name());
        String reason = dead != null ? dead : statusReason(s);
        h.put("reason", reason == null ? "" : reason);
        h.put("workerId", workerId());
        h.put("pool", cfg.pool());
        h.put("mode", cfg.mode().name().toLowerCase());
        h.put("utilisation", load());
        h.put("activeTasks", running.get());
        h.put("queuedTasks", Math.max(0, slotsUsed.get() - running.get()));
        h.put("inFlightTasks", inFlight.size());
        List<WorkerAgent> group = group();
        h.put("tasksDone", group.stream().mapToLong(a -> a.done.get()).sum());
        h.put("tasksFailed", group.stream().mapToLong(a -> a.failed.get()).sum());
        h.put("tasksHandedBack", group.stream().mapToLong(a -> a.handedBack.get()).sum());
        h.put("tasksRefusedUnsigned", refusedTasks.get());
        h.put("earningsMicros", group.stream().mapToLong(a -> a.earnings.get()).sum());
        h.put("identities", group.size());
        h.put("identitiesWithTasks", group.stream().filter(a -> a.done.get() + a.failed.get() > 0).count());
        h.put("ownedPartitions", new TreeSet<>(owned).toString());
        h.put("lastError", lastError);
        return h;
    }

    // ---------------------------------------------------------------- drain and close

    /**
     * Stops taking tasks, hands back queued ones, lets running ones finish (bounded by the drain
     * timeout; the rest are handed back), deregisters and leaves the group. Idempotent; blocks
     * until done.
     */
    public void drain() {
        if (drainRequested.compareAndSet(false, true)) {
            log.info("worker {} draining", workerId());
            draining = true;
            Thread retry = bandwidthRetry;
            if (retry != null) {
                retry.interrupt();
            }
            if (pollThread == null) {
                finishDrain();
            } else {
                consumer.wakeup();
            }
        }
        try {
            if (!drained.await(cfg.drainTimeoutMs() + cfg.deregisterTimeoutMs() + 30_000, TimeUnit.MILLISECONDS)) {
                log.error("drain did not finish in time");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public boolean isDrained() {
        return drained.getCount() == 0;
    }

    /** Runs once, on the poll thread (or the caller when the loop never started); for the whole group. */
    private void finishDrain() {
        List<WorkerAgent> group = group();
        group.forEach(a -> a.draining = true);
        try {
            for (WorkerAgent a : group) {
                a.handBackQueued("worker draining");
                if (a.running.get() > 0) {
                    log.warn("{} tasks still running at the drain deadline: handing them back", a.running.get());
                    a.inFlight.values().forEach(f -> f.abandoned = true);
                }
            }
            runners.shutdownNow();
            runners.awaitTermination(15, TimeUnit.SECONDS);
            if (started.get()) {
                commitNow(new ArrayList<>(uncommitted.keySet()));
                try {
                    consumer.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                            .withTimeout(Duration.ofSeconds(5)));
                } catch (RuntimeException e) {
                    log.warn("consumer close: {}", e.toString());
                }
                // results first, so the market sees them before the worker leaves
                long until = System.currentTimeMillis() + 5000;
                while (group.stream().anyMatch(a -> !a.inFlight.isEmpty()) && System.currentTimeMillis() < until) {
                    producer.flush();
                    Thread.sleep(20);
                }
                deregister(group);
                producer.flush();
            }
            log.info("worker {} drained: {} done, {} failed, {} handed back", workerId(), done.get(), failed.get(), handedBack.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("drain failed", e);
        } finally {
            group.forEach(a -> a.closed = true);
            drained.countDown();
        }
    }

    /**
     * Sends the deregistration of every identity of {@code group} through an outage, for at most
     * {@link WorkerConfig#deregisterTimeoutMs} in all ({@link Deregistrations}); then logs the ones not sent and goes.
     */
    private void deregister(List<WorkerAgent> group) throws InterruptedException {
        if (!hosted.isEmpty()) {
            ScheduledFuture<?> hb = heartbeats;
            if (hb != null) {
                hb.cancel(false);
            }
            if (produceBreaker.isClosed()) {
                heartbeatSafely(); // one last round: every identity DRAINING, free slots 0 (skipped when Kafka is away)
            }
        }
        Map<WorkerAgent, WorkerRegistration> leaving = new LinkedHashMap<>();
        for (WorkerAgent a : group) {
            a.leave().ifPresent(d -> leaving.put(a, d));
        }
        List<WorkerAgent> unsent = Deregistrations.send(leaving.keySet(), a -> a.sendAcked(leaving.get(a)),
                System.currentTimeMillis() + cfg.deregisterTimeoutMs(), System::currentTimeMillis, why -> {
                    lastError = why;
                    log.warn("worker {}: {}", workerId(), why);
                }, (a, why) -> log.error("worker {}: deregistration not sent: {}", a.workerId(), why), Thread::sleep);
        if (!unsent.isEmpty()) {
            lastError = unsent.size() + " deregistrations not sent within deregister.timeout.ms (" + cfg.deregisterTimeoutMs()
                    + " ms): the matcher takes them for offline after its grace";
            log.error("worker {}: {}: {}", workerId(), lastError, unsent.stream().map(WorkerAgent::workerId).toList());
        }
        leaving.keySet().forEach(a -> a.signer.seqClock().save());
    }

    /**
     * Stops heartbeating and registering again, sends a last DRAINING heartbeat; the deregistration of this identity
     * to send, empty when it never registered.
     */
    private synchronized Optional<WorkerRegistration> leave() {
        ScheduledFuture<?> hb = heartbeats;
        if (hb != null) {
            hb.cancel(false);
        }
        ScheduledFuture<?> retry = registrationRetry.getAndSet(null);
        if (retry != null) {
            retry.cancel(false);
        }
        if (capabilities == null) {
            return Optional.empty(); // never registered
        }
        if (produceBreaker.isClosed() && host.hosted.isEmpty()) {
            heartbeatSafely(); // a last DRAINING heartbeat: free slots 0 (skipped when Kafka is away: it would block)
        }
        beating = false;
        return Optional.of(signer.registration(RegistrationType.DEREGISTERED, capabilities));
    }

    /** Writes a registration record; the future completes with the broker's ack. Throws when it cannot be encoded (the registry away). */
    private CompletableFuture<RecordMetadata> sendAcked(WorkerRegistration reg) {
        byte[] value = registrationSerializer.serialize(Topics.REGISTRATIONS.name(), reg);
        var acked = new CompletableFuture<RecordMetadata>();
        send(Topics.REGISTRATIONS.name(), workerId(), value, null, (md, ex) -> {
            if (ex != null) {
                acked.completeExceptionally(ex);
            } else {
                acked.complete(md);
            }
        });
        return acked;
    }

    @Override
    public void close() {
        drain();
        scheduler.shutdownNow();
        try {
            producer.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            log.warn("producer close: {}", e.toString());
        }
        sandbox.close();
    }

    private static java.util.concurrent.ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
