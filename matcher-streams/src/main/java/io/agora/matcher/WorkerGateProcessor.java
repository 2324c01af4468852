package io.agora.matcher;

import io.agora.events.EntryKind;
import io.agora.events.Heartbeat;
import io.agora.events.HostHeartbeat;
import io.agora.events.HostedBeat;
import io.agora.events.LedgerEntry;
import io.agora.events.Posting;
import io.agora.events.RegistrationType;
import io.agora.events.SlashResult;
import io.agora.events.ReputationChanged;
import io.agora.events.StakeOrder;
import io.agora.events.WorkerCapabilities;
import io.agora.events.WorkerRegistration;
import io.agora.market.Accounts;
import io.agora.market.BandwidthAttestation;
import io.agora.market.PohChallenge;
import io.agora.market.Postings;
import io.agora.market.Stake;
import io.agora.runtime.Polls;
import io.agora.runtime.Punctuations;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.HostBeats;
import io.agora.schemas.Signatures;
import io.agora.schemas.TaskSeal;
import io.agora.schemas.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The worker gate, keyed by workerId. Inputs: {@code agora.workers.registrations},
 * {@code agora.workers.heartbeats}, {@code agora.workers.host-beats} (a host's identities of this partition in one
 * record, {@link #hostHeartbeat}), {@code agora.workers.reputation}. It checks each signed event
 * against its sender id (Ed25519, {@link Signatures#verify}), refuses records out of
 * {@link InputBounds} (checked first, before anything is looked up or kept), replays (seq must grow
 * per worker and event kind) and registrations to a trusted pool by workers off its allowlist; those
 * go to {@code agora.dlq} with the reason in headers. It sums reputation deltas and remembers each
 * worker's pool, and hands verified events on, keyed by pool, to the pool stage: a heartbeat only when
 * it reports something new, and {@link Flow.Silent} when a worker's heartbeats stopped for the grace
 * (the gate judges liveness, {@link QuietBeats}).
 *
 * <p>It also keeps each worker's {@link Stake}: the credits the market saw paid to the worker
 * ({@code agora.ledger.entries}, PAYOUT and SLASH legs to {@code worker:<id>}, re-keyed by worker),
 * the stake a signed registration asks for (STAKE at once, UNSTAKE after the cool-down, swept by a
 * wall-clock punctuator through the {@link #UNBONDS} index) and the verifier's {@link StakeOrder}s
 * carried by reputation changes (LOCK and RELEASE around a dispute, SLASH when it is lost: what each SLASH took goes
 * to {@code agora.jobs.slashes}, key jobId, as a {@link SlashResult}, for the verifier's settlement receipt). A
 * registration whose stake stays below its pool's minimum is refused (DLQ); a worker slashed below
 * it leaves its pool until it registers again with enough stake.
 */
final class WorkerGateProcessor implements Processor<String, SpecificRecord, String, Flow> {
    static final String GATE = "matcher-worker-gate";
    /** Due unbonds: {@code <due ms, 19 digits>|workerId} to workerId. */
    static final String UNBONDS = "matcher-unbonds";
    static final String APP = "agora-matcher";
    private static final Logger log = LoggerFactory.getLogger(WorkerGateProcessor.class);

    /** What the gate remembers of a worker. */
    record GateState(long registrationSeq, long heartbeatSeq, String pool, long reputation, Stake.Account stake) {
        static final GateState NEW = new GateState(Long.MIN_VALUE, Long.MIN_VALUE, null, 0, Stake.Account.NEW);

        GateState with(Stake.Account a) {
            return new GateState(registrationSeq, heartbeatSeq, pool, reputation, a);
        }

        GateState withHeartbeatSeq(long seq) {
            return new GateState(registrationSeq, seq, pool, reputation, stake);
        }
    }

    private final MatcherConfig cfg;
    /** The market's proof-of-hardware challenge key ({@link io.agora.schemas.ChallengeKey}). */
    private final byte[] challengeKey;
    /** Not state: the score of each recently checked shared proof, so a host's identities are not checked one by one. */
    private final java.util.Map<String, Double> sharedProofs = lru(256);
    private final Serializer<WorkerRegistration> registrationBytes;
    private final Serializer<Heartbeat> heartbeatBytes;
    private final Serializer<HostHeartbeat> hostBeatBytes;
    private final Serializer<ReputationChanged> reputationBytes;
    private final Serializer<LedgerEntry> ledgerBytes;
    /** Liveness, judged here: heartbeats that report nothing new stop here ({@link QuietBeats}, built at init). */
    private QuietBeats quiet;
    private ProcessorContext<String, Flow> ctx;
    private KeyValueStore<String, GateState> gate;
    private KeyValueStore<String, String> unbonds;
    /** Returns due unbonds and calls silent workers; idles while neither is near. */
    private Punctuations.Adaptive sweeps;
    /** When the last sweep ran; a gap longer than the idle tick and a margin is logged (a stalled stream thread). */
    private long lastSweepAt;
    private long lastFetched;
    private static final long STALL_LOG_MS = PoolMarketProcessor.IDLE_TICK.toMillis() + 2_000;
    private final ReadClock.PerTask reads;
    /** How far behind its input the gate's task reads: silence is judged by the time it has heard up to. */
    private ReadClock read;

    WorkerGateProcessor(MatcherConfig cfg, AgoraSerdes serdes, byte[] challengeKey, ReadClock.PerTask reads) {
        this.cfg = cfg;
        this.reads = reads;
        this.challengeKey = challengeKey.clone();
        this.registrationBytes = serdes.valueSerde(Topics.REGISTRATIONS).serializer();
        this.heartbeatBytes = serdes.valueSerde(Topics.HEARTBEATS).serializer();
        this.hostBeatBytes = serdes.valueSerde(Topics.HOST_BEATS).serializer();
        this.reputationBytes = serdes.valueSerde(Topics.REPUTATION).serializer();
        this.ledgerBytes = serdes.valueSerde(Topics.LEDGER).serializer();
    }

    @Override
    public void init(ProcessorContext<String, Flow> context) {
        this.ctx = context;
        this.gate = context.getStateStore(GATE);
        this.unbonds = context.getStateStore(UNBONDS);
        this.read = reads.of(context.taskId());
        // every worker in a pool is watched from now: silence counts from the gate's start
        long now = context.currentSystemTimeMs();
        quiet = new QuietBeats(cfg.workerGraceMs());
        try (KeyValueIterator<String, GateState> it = gate.all()) {
            it.forEachRemaining(kv -> {
                if (kv.value.pool() != null) {
                    quiet.watch(kv.key, now);
                }
            });
        }
        sweeps = Punctuations.adaptive(context, Duration.ofMillis(cfg.punctuateMs()), PoolMarketProcessor.IDLE_TICK,
                t -> returnDueUnbonds(t) | callSilent(t));
    }

    @Override
    public void process(Record<String, SpecificRecord> record) {
        SpecificRecord v = record.value();
        if (v instanceof WorkerRegistration reg) {
            register(record, reg);
        } else if (v instanceof Heartbeat hb) {
            heartbeat(record, hb);
        } else if (v instanceof HostHeartbeat hb) {
            hostHeartbeat(record, hb);
        } else if (v instanceof ReputationChanged rc) {
            reputation(record, rc);
        } else if (v instanceof LedgerEntry e) {
            credit(record, e);
        }
    }

    private void register(Record<String, SpecificRecord> record, WorkerRegistration reg) {
        String bad = InputBounds.registration(reg);
        if (bad != null) {
            deadLetter(record, registrationBytes.serialize(Topics.REGISTRATIONS.name(), reg), "registration out of bounds: " + bad);
            return;
        }
        String workerId = reg.getWorkerId();
        GateState g = state(workerId);
        if (!Signatures.verify(reg, workerId)) {
            bad = "bad signature on registration of " + workerId;
        } else if (reg.getSeq() <= g.registrationSeq()) {
            bad = "replayed registration: seq " + reg.getSeq() + " <= " + g.registrationSeq();
        } else if (reg.getType() == RegistrationType.REGISTERED && reg.getCapabilities() == null) {
            bad = "registration without capabilities";
        } else if (reg.getType() == RegistrationType.REGISTERED && !TaskSeal.isKey(reg.getCapabilities().getSealKey())) {
            bad = "registration without a valid sealKey (X25519, base64url): its tasks could not be sealed to it";
        }
        String pool = reg.getCapabilities() == null ? g.pool() : reg.getCapabilities().getPool();
        if (bad == null && reg.getType() == RegistrationType.REGISTERED) {
            Set<String> allow = cfg.allowlist(pool);
            if (allow != null && !allow.contains(workerId)) {
                bad = "not on allowlist of pool " + pool;
            }
        }
        long now = ctx.currentSystemTimeMs();
        long target = reg.getType() == RegistrationType.REGISTERED ? reg.getStakeMicros() : 0;
        Stake.Change stake = Stake.request(g.stake(), target, reg.getSeq(), now,
                Duration.ofMillis(cfg.stakeCoolDownMs()));
        long min = pool == null ? 0 : cfg.minStakeMicros(pool);
        if (bad == null && reg.getType() == RegistrationType.REGISTERED && stake.account().effectiveMicros() < min) {
            bad = "stake " + stake.account().effectiveMicros() + " below the minimum " + min + " of pool " + pool
                    + " (asked " + reg.getStakeMicros() + ", available " + g.stake().availableMicros() + ")";
        }
        if (bad != null) {
            deadLetter(record, registrationBytes.serialize(Topics.REGISTRATIONS.name(), reg), bad);
            return;
        }
        if (stake.refused() != null) {
            log.warn("worker {}: {}", workerId, stake.refused());
        } else if (target != g.stake().effectiveMicros()) {
            log.info("worker {} {} (seq {}, at {}): stake {} asked, {} bonded, {} unbonding, open disputes {}", workerId,
                    reg.getType(), reg.getSeq(), record.timestamp(), target, stake.account().bondedMicros(),
                    stake.account().unbondingMicros(), stake.account().disputes());
        }
        if (g.pool() != null && !g.pool().equals(pool)) {
            ctx.forward(new Record<>(g.pool(), new Flow.Removed(workerId), record.timestamp()));
        }
        gate.put(workerId, new GateState(reg.getSeq(), g.heartbeatSeq(), pool, g.reputation(), stake.account()));
        if (pool != null && reg.getType() == RegistrationType.REGISTERED) {
            quiet.watch(workerId, now);
            sweeps.wake();
        } else {
            quiet.forget(workerId);
        }
        if (stake.bondMicros() > 0) {
            emit(workerId, record.timestamp(), Postings.stake(workerId, reg.getSeq(), stake.bondMicros(), now));
        }
        indexUnbond(workerId, g.stake(), stake.account());
        if (pool != null) {
            // the pool stage weighs the bond the market holds, not the one the worker asked for
            WorkerRegistration trusted = WorkerRegistration.newBuilder(
                            withCheckedBandwidth(withCheckedScore(reg, record.timestamp()), record.timestamp()))
                    .setStakeMicros(stake.account().effectiveMicros()).build();
            ctx.forward(new Record<>(pool, new Flow.Registered(trusted, g.reputation()), record.timestamp()));
        }
    }

    /**
     * The registration as the pool may trust it: its benchmark score only as far as {@link PohChallenge#verdict}
     * trusts it, the proof answering a market challenge that names this worker, arrived ({@code arrivalMs}, the
     * broker's append time) within the challenge's window, and one segment of its chain, chosen here at random,
     * recomputing; else the score is 0 (the worker stays registered, at the lowest proof-of-hardware term).
     * The identities of one host share one proof: its chain is checked once ({@link #sharedProofs}). The proof itself
     * is not kept.
     */
    private WorkerRegistration withCheckedScore(WorkerRegistration reg, long arrivalMs) {
        WorkerCapabilities caps = reg.getCapabilities();
        if (caps == null || (caps.getBenchmarkScore() == 0 && caps.getBenchmarkProof() == null)) {
            return reg;
        }
        io.agora.events.BenchmarkProof proof = caps.getBenchmarkProof();
        String shared = caps.getBenchmarkScore() + "|" + proof;
        Double hostScore = proof == null ? null : sharedProofs.get(shared);
        PohChallenge.Verdict v;
        if (hostScore != null) {
            // another identity of the same host answered with this very proof, and its chain checked:
            // only whether the challenge names this worker and the window remain to be checked
            String why = PohChallenge.check(challengeKey, proof.getSeed(), reg.getWorkerId(), arrivalMs);
            v = why != null ? new PohChallenge.Verdict(0, why) : new PohChallenge.Verdict(PohChallenge.boundedScore(
                    hostScore, proof.getSteps(), PohChallenge.parse(proof.getSeed()).issuedAt(), arrivalMs), null);
        } else {
            v = PohChallenge.verdict(challengeKey, reg.getWorkerId(), caps.getBenchmarkScore(), proof, arrivalMs,
                    ThreadLocalRandom.current().nextInt());
            if (v.refused() == null && proof != null) {
                sharedProofs.put(shared, v.score());
            }
        }
        if (v.refused() != null) {
            log.warn("benchmark score {} of worker {} not trusted: {}", caps.getBenchmarkScore(), reg.getWorkerId(), v.refused());
        }
        return WorkerRegistration.newBuilder(reg).setCapabilities(WorkerCapabilities.newBuilder(caps)
                .setBenchmarkScore(v.score()).setBenchmarkProof(null).build()).build();
    }

    /**
     * The registration with its {@code networkMbps} as the market checked it ({@link BandwidthAttestation#verdict}):
     * at most the figure ingest-api attested to this worker, within the attestation's validity at {@code arrivalMs};
     * 0 without a valid one. The attestation itself is not kept.
     */
    private WorkerRegistration withCheckedBandwidth(WorkerRegistration reg, long arrivalMs) {
        WorkerCapabilities caps = reg.getCapabilities();
        if (caps == null || (caps.getNetworkMbps() == 0 && caps.getNetworkAttestation() == null)) {
            return reg;
        }
        BandwidthAttestation.Verdict v = BandwidthAttestation.verdict(challengeKey, reg.getWorkerId(), caps.getNetworkMbps(),
                caps.getNetworkAttestation(), arrivalMs);
        if (v.refused() != null) {
            log.info("bandwidth {} Mbit/s of worker {} counts 0: {}", caps.getNetworkMbps(), reg.getWorkerId(), v.refused());
        }
        return WorkerRegistration.newBuilder(reg).setCapabilities(WorkerCapabilities.newBuilder(caps)
                .setNetworkMbps(v.mbps()).setNetworkAttestation(null).build()).build();
    }

    private void heartbeat(Record<String, SpecificRecord> record, Heartbeat hb) {
        String bad = InputBounds.heartbeat(hb, Topics.TASKS.partitions());
        if (bad != null) {
            deadLetter(record, heartbeatBytes.serialize(Topics.HEARTBEATS.name(), hb), "heartbeat out of bounds: " + bad);
            return;
        }
        String workerId = hb.getWorkerId();
        GateState g = state(workerId);
        if (!Signatures.verify(hb, workerId)) {
            bad = "bad signature on heartbeat of " + workerId;
        } else if (hb.getSeq() <= g.heartbeatSeq()) {
            bad = "replayed heartbeat: seq " + hb.getSeq() + " <= " + g.heartbeatSeq();
        }
        if (bad != null) {
            deadLetter(record, heartbeatBytes.serialize(Topics.HEARTBEATS.name(), hb), bad);
            return;
        }
        gate.put(workerId, g.withHeartbeatSeq(hb.getSeq()));
        pass(g, hb, record.timestamp());
    }

    /** A verified heartbeat of a worker the gate holds as {@code g}: on to its pool if it reports something new. */
    private void pass(GateState g, Heartbeat hb, long ts) {
        if (g.pool() == null) {
            log.debug("heartbeat of unregistered worker {} ignored", hb.getWorkerId());
            return;
        }
        if (quiet.forward(hb, ctx.currentSystemTimeMs())) {
            ctx.forward(new Record<>(g.pool(), new Flow.Beat(hb), ts));
        }
    }

    /**
     * A host's record of its identities' beats ({@link HostBeats}): the record must be signed by its host, and each
     * beat by its identity for this host and this sequence number, so a host beats only for identities whose keys it
     * holds, and no beat is moved from one record into another; the sequence number must be above the last heartbeat
     * sequence of the record's first identity (its key: one gate state written per record, not one per identity), so
     * a record is not replayed. Anything else and the whole record is dead-lettered with the reason. Then each beat
     * is what the identity's own heartbeat would be: the same liveness, lease renewal and free slots.
     */
    private void hostHeartbeat(Record<String, SpecificRecord> record, HostHeartbeat hb) {
        String bad = InputBounds.hostHeartbeat(hb, Topics.TASKS.partitions());
        if (bad != null) {
            deadLetter(record, hostBeatBytes.serialize(Topics.HOST_BEATS.name(), hb), "host heartbeat out of bounds: " + bad);
            return;
        }
        String host = hb.getHost();
        String lead = hb.getBeats().get(0).getWorkerId();
        GateState first = state(lead);
        if (!Signatures.verify(hb, host)) {
            bad = "bad signature on host heartbeat of " + host;
        } else {
            for (HostedBeat b : hb.getBeats()) {
                if (!host.equals(b.getHost()) || b.getSeq() != hb.getSeq()) {
                    bad = "host " + host + " beats for " + b.getWorkerId() + " with a beat signed for host " + b.getHost()
                            + " seq " + b.getSeq() + ", not this record's seq " + hb.getSeq();
                } else if (!Signatures.verify(b, b.getWorkerId())) {
                    bad = "host " + host + " beats for " + b.getWorkerId() + ", whose signature the beat does not carry:"
                            + " a host beats only for the identities it holds the keys of";
                }
                if (bad != null) {
                    break;
                }
            }
        }
        if (bad == null && hb.getSeq() <= first.heartbeatSeq()) {
            bad = "replayed host heartbeat: seq " + hb.getSeq() + " <= " + first.heartbeatSeq() + " of " + lead;
        }
        if (bad != null) {
            deadLetter(record, hostBeatBytes.serialize(Topics.HOST_BEATS.name(), hb), bad);
            return;
        }
        gate.put(lead, first.withHeartbeatSeq(hb.getSeq()));
        for (HostedBeat b : hb.getBeats()) {
            GateState g = b.getWorkerId().equals(lead) ? first : state(b.getWorkerId());
            pass(g, HostBeats.asHeartbeat(hb, b), record.timestamp());
        }
    }

    private void reputation(Record<String, SpecificRecord> record, ReputationChanged rc) {
        String bad = InputBounds.reputation(rc);
        if (bad != null) {
            deadLetter(record, reputationBytes.serialize(Topics.REPUTATION.name(), rc), "reputation change out of bounds: " + bad);
            return;
        }
        String workerId = rc.getWorkerId();
        GateState g = state(workerId);
        long rep = g.reputation() + rc.getDelta();
        String pool = g.pool();
        Stake.Account stake = g.stake();
        StakeOrder order = rc.getStake();
        if (order != null && rc.getJobId() != null) {
            String jobId = rc.getJobId();
            long now = ctx.currentSystemTimeMs();
            switch (order.getAction()) {
                case LOCK -> {
                    Stake.Change locked = Stake.lock(stake, jobId, rc.getTimestamp().toEpochMilli(),
                            Duration.ofMillis(cfg.stakeCoolDownMs()));
                    if (locked.refused() != null) {
                        log.warn("worker {}: {}", workerId, locked.refused());
                    }
                    stake = locked.account();
                }
                case RELEASE -> stake = stake.release(jobId);
                case SLASH -> {
                    Stake.Slash slash = Stake.slash(stake, order.getReclaimMicros(), order.getHonestWorkers());
                    stake = Stake.after(stake, jobId, slash);
                    if (slash.reclaimMicros() > 0 || slash.slashedMicros() > 0) {
                        emit(order.getClientId(), record.timestamp(),
                                Postings.slash(jobId, order.getClientId(), workerId, slash, now));
                    }
                    // the verifier signs the dispute's settlement from every slashed worker's result, nothing taken included
                    ctx.forward(new Record<>(jobId, Flow.Emit.of(Topics.SLASHES.name(), new SlashResult(
                            java.util.UUID.randomUUID().toString(), jobId, order.getClientId(),
                            Postings.taken(workerId, slash), java.time.Instant.ofEpochMilli(now))), record.timestamp()));
                    if (pool != null && stake.effectiveMicros() < cfg.minStakeMicros(pool)) {
                        log.info("worker {} slashed below the minimum stake of pool {}: it leaves the pool", workerId, pool);
                        ctx.forward(new Record<>(pool, new Flow.Removed(workerId), record.timestamp()));
                        quiet.forget(workerId);
                        pool = null;
                    }
                }
            }
            indexUnbond(workerId, g.stake(), stake);
            log.info("worker {}: stake {} for job {} (at {}): {} bonded, open disputes {}", workerId, order.getAction(), jobId,
                    record.timestamp(), stake.bondedMicros(), stake.disputes());
        }
        gate.put(workerId, new GateState(g.registrationSeq(), g.heartbeatSeq(), pool, rep, stake));
        if (pool != null) {
            // with the bond as it is now: a slash lowers the stake matching weighs at once, not at the next registration
            ctx.forward(new Record<>(pool, new Flow.Reputation(workerId, rep, stake.effectiveMicros()), record.timestamp()));
        }
    }

    /** Credits to the worker's own account (keyed by the worker): they become bondable. */
    private void credit(Record<String, SpecificRecord> record, LedgerEntry e) {
        String workerId = record.key();
        GateState g = state(workerId);
        try {
            long micros = credited(e, workerId);
            if (micros > 0) {
                gate.put(workerId, g.with(g.stake().credit(micros)));
            }
        } catch (ArithmeticException overflow) {
            deadLetter(record, ledgerBytes.serialize(Topics.LEDGER.name(), e),
                    "credit overflows the available credits of " + workerId);
        }
    }

    /**
     * What {@code e} credits to {@code worker:<workerId>} that the gate did not post itself: PAYOUT,
     * the honest shares of a SLASH and a dispute fee paid (STAKE and UNSTAKE are applied when posted).
     */
    static long credited(LedgerEntry e, String workerId) {
        if (!creditsWorkers(e)) {
            return 0;
        }
        String account = Accounts.worker(workerId);
        long sum = 0;
        for (Posting p : e.getPostings()) {
            if (account.equals(p.getAccountId()) && p.getAmountMicros() > 0 && p.getAmountMicros() <= InputBounds.MAX_MICROS) {
                sum = Math.addExact(sum, p.getAmountMicros());
            }
        }
        return sum;
    }

    private static boolean creditsWorkers(LedgerEntry e) {
        return e.getKind() == EntryKind.PAYOUT || e.getKind() == EntryKind.SLASH || e.getKind() == EntryKind.DISPUTE_FEE;
    }

    /** The workers a ledger entry credits through {@link #credited}: the keys it is re-keyed to. */
    static List<String> creditedWorkers(LedgerEntry e) {
        List<String> out = new ArrayList<>();
        if (!creditsWorkers(e) || e.getPostings() == null) {
            return out;
        }
        for (Posting p : e.getPostings()) {
            String a = p.getAccountId();
            if (a != null && a.startsWith("worker:") && p.getAmountMicros() > 0) {
                String w = a.substring("worker:".length());
                if (!w.isEmpty() && w.length() <= InputBounds.MAX_ID && !out.contains(w)) {
                    out.add(w);
                }
            }
        }
        return out;
    }

    /** Keeps the {@link #UNBONDS} index in step with a worker's unbond (at most one entry per worker). */
    private void indexUnbond(String workerId, Stake.Account before, Stake.Account after) {
        if (before.unbondingMicros() > 0) {
            unbonds.delete(unbondKey(before.unbondDueAt(), workerId));
        }
        if (after.unbondingMicros() > 0 && after.disputes().isEmpty()) {
            unbonds.put(unbondKey(after.unbondDueAt(), workerId), workerId);
            sweeps.wake();
        }
    }

    private static String unbondKey(long dueAt, String workerId) {
        return String.format("%019d|%s", Math.max(0, dueAt), workerId);
    }

    /**
     * Returns every unbond whose cool-down is over (a worker in a dispute is re-indexed when it ends); whether
     * any unbond is left to wait for (the sweep idles while none is).
     */
    private boolean returnDueUnbonds(long now) {
        List<KeyValue<String, String>> due = new ArrayList<>();
        try (KeyValueIterator<String, String> it = unbonds.range(unbondKey(0, ""), unbondKey(now, "~"))) {
            it.forEachRemaining(due::add);
        }
        for (KeyValue<String, String> kv : due) {
            unbonds.delete(kv.key);
            String workerId = kv.value;
            GateState g = state(workerId);
            Stake.Return r = Stake.due(g.stake(), now);
            if (r.unstakeMicros() > 0) {
                gate.put(workerId, g.with(r.account()));
                emit(workerId, now, Postings.unstake(workerId, r.seq(), r.unstakeMicros(), now));
            }
        }
        try (KeyValueIterator<String, String> it = unbonds.all()) {
            return it.hasNext();
        }
    }

    /**
     * Tells each silent worker's pool that its heartbeats stopped for the grace ({@link Flow.Silent}, once per
     * silence), judged by the time the task has read its input up to ({@link ReadClock}): under a burst of registrations,
     * reputation changes or credits the heartbeats behind them wait (the task reads in timestamp order), and a worker is not silent
     * for heartbeats not read yet, nor for heartbeats its stream thread has not fetched ({@link Polls}). Whether another worker's grace ends within the idle tick (the sweep must not
     * idle past it).
     */
    private boolean callSilent(long now) {
        long fetched = Polls.fetchedUpTo();
        long heard = Math.min(read.heard(now), fetched);
        if (lastSweepAt > 0 && now - lastSweepAt > STALL_LOG_MS) {
            log.info("worker gate {}: sweep {} ms after the previous one (read up to {} ms ago)", ctx.taskId(),
                    now - lastSweepAt, now - heard);
        }
        if (now - fetched > STALL_LOG_MS && lastFetched != fetched) {
            log.info("worker gate {}: its stream thread has fetched nothing for {} ms (busy with what it fetched before): no worker is called silent for it",
                    ctx.taskId(), now - fetched);
        }
        lastFetched = fetched;
        lastSweepAt = now;
        for (String workerId : quiet.silent(heard)) {
            log.info("worker {} silent: no heartbeat read for the grace by {} ms ago, what the gate has read up to",
                    workerId, now - heard);
            GateState g = gate.get(workerId);
            if (g != null && g.pool() != null) {
                ctx.forward(new Record<>(g.pool(), new Flow.Silent(workerId), now));
            }
        }
        return quiet.graceEndsWithin(now, PoolMarketProcessor.IDLE_TICK.toMillis());
    }

    private void emit(String key, long ts, LedgerEntry entry) {
        ctx.forward(new Record<>(key, Flow.Emit.of(Topics.LEDGER.name(), entry), ts));
    }

    private GateState state(String workerId) {
        GateState g = gate.get(workerId);
        return g == null ? GateState.NEW : g;
    }

    private void deadLetter(Record<String, SpecificRecord> record, byte[] raw, String reason) {
        deadLetter(ctx, record, raw, reason);
    }

    /** Forwards the record's bytes to {@code agora.dlq}, the reason and its origin in headers (every gate of the matcher). */
    static void deadLetter(ProcessorContext<String, Flow> ctx, Record<String, ?> record, byte[] raw, String reason) {
        log.warn("dead letter: {}", reason);
        RecordMetadata md = ctx.recordMetadata().orElse(null);
        var headers = DeadLetters.headers(APP, reason, md == null ? "unknown" : md.topic(),
                md == null ? -1 : md.partition(), md == null ? -1 : md.offset());
        String key = record.key() == null ? "" : record.key();
        ctx.forward(new Record<String, Flow>(key, new Flow.Emit(Topics.DLQ.name(), null, raw, null),
                record.timestamp(), headers));
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static <V> java.util.Map<String, V> lru(int size) {
        return new java.util.LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(java.util.Map.Entry<String, V> eldest) {
                return size() > size;
            }
        };
    }
}
