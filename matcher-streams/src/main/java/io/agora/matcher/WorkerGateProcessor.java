package io.agora.matcher;

import io.agora.events.Heartbeat;
import io.agora.events.RegistrationType;
import io.agora.events.ReputationChanged;
import io.agora.events.WorkerRegistration;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.DeadLetters;
import io.agora.schemas.Signatures;
import io.agora.schemas.TaskSeal;
import io.agora.schemas.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * The worker gate, keyed by workerId. Inputs: {@code agora.workers.registrations},
 * {@code agora.workers.heartbeats}, {@code agora.workers.reputation}. It checks each signed event
 * against its sender id (Ed25519, {@link Signatures#verify}), refuses records out of
 * {@link InputBounds} (checked first, before anything is looked up or kept), replays (seq must grow
 * per worker and event kind) and registrations to a trusted pool by workers off its allowlist; those
 * go to {@code agora.dlq} with the reason in headers. It sums reputation deltas and remembers each
 * worker's pool, and hands verified events on, keyed by pool, to the pool stage.
 */
final class WorkerGateProcessor implements Processor<String, SpecificRecord, String, Flow> {
    static final String GATE = "matcher-worker-gate";
    static final String APP = "agora-matcher";
    private static final Logger log = LoggerFactory.getLogger(WorkerGateProcessor.class);

    /** What the gate remembers of a worker. */
    record GateState(long registrationSeq, long heartbeatSeq, String pool, long reputation) {
        static final GateState NEW = new GateState(Long.MIN_VALUE, Long.MIN_VALUE, null, 0);
    }

    private final MatcherConfig cfg;
    private final Serializer<WorkerRegistration> registrationBytes;
    private final Serializer<Heartbeat> heartbeatBytes;
    private final Serializer<ReputationChanged> reputationBytes;
    private ProcessorContext<String, Flow> ctx;
    private KeyValueStore<String, GateState> gate;

    WorkerGateProcessor(MatcherConfig cfg, AgoraSerdes serdes) {
        this.cfg = cfg;
        this.registrationBytes = serdes.valueSerde(Topics.REGISTRATIONS).serializer();
        this.heartbeatBytes = serdes.valueSerde(Topics.HEARTBEATS).serializer();
        this.reputationBytes = serdes.valueSerde(Topics.REPUTATION).serializer();
    }

    @Override
    public void init(ProcessorContext<String, Flow> context) {
        this.ctx = context;
        this.gate = context.getStateStore(GATE);
    }

    @Override
    public void process(Record<String, SpecificRecord> record) {
        SpecificRecord v = record.value();
        if (v instanceof WorkerRegistration reg) {
            register(record, reg);
        } else if (v instanceof Heartbeat hb) {
            heartbeat(record, hb);
        } else if (v instanceof ReputationChanged rc) {
            reputation(record, rc);
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
        if (bad != null) {
            deadLetter(record, registrationBytes.serialize(Topics.REGISTRATIONS.name(), reg), bad);
            return;
        }
        if (g.pool() != null && !g.pool().equals(pool)) {
            ctx.forward(new Record<>(g.pool(), new Flow.Removed(workerId), record.timestamp()));
        }
        gate.put(workerId, new GateState(reg.getSeq(), g.heartbeatSeq(), pool, g.reputation()));
        if (pool != null) {
            ctx.forward(new Record<>(pool, new Flow.Registered(reg, g.reputation()), record.timestamp()));
        }
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
        gate.put(workerId, new GateState(g.registrationSeq(), hb.getSeq(), g.pool(), g.reputation()));
        if (g.pool() == null) {
            log.debug("heartbeat of unregistered worker {} ignored", workerId);
            return;
        }
        ctx.forward(new Record<>(g.pool(), new Flow.Beat(hb), record.timestamp()));
    }

    private void reputation(Record<String, SpecificRecord> record, ReputationChanged rc) {
        String bad = InputBounds.reputation(rc);
        if (bad != null) {
            deadLetter(record, reputationBytes.serialize(Topics.REPUTATION.name(), rc), "reputation change out of bounds: " + bad);
            return;
        }
        GateState g = state(rc.getWorkerId());
        long rep = g.reputation() + rc.getDelta();
        gate.put(rc.getWorkerId(), new GateState(g.registrationSeq(), g.heartbeatSeq(), g.pool(), rep));
        if (g.pool() != null) {
            ctx.forward(new Record<>(g.pool(), new Flow.Reputation(rc.getWorkerId(), rep), record.timestamp()));
        }
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
}
