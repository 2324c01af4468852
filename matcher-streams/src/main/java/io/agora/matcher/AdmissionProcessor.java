package io.agora.matcher;

import io.agora.events.CommandType;
import io.agora.events.JobCommand;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobRequested;
import io.agora.events.LedgerEntry;
import io.agora.events.Posting;
import io.agora.market.Accounts;
import io.agora.market.Postings;
import io.agora.schemas.AgoraSerdes;
import io.agora.schemas.Topics;
import io.agora.schemas.Traces;
import io.agora.runtime.Commits;
import io.opentelemetry.api.trace.SpanKind;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/**
 * Admission, keyed by clientId. Inputs: {@code agora.jobs.requests} (JobRequested) and
 * {@code agora.ledger.entries} (LedgerEntry). Outputs: STARTER_GRANT and ESCROW_HOLD entries to
 * {@code agora.ledger.entries}, ACCEPTED/REJECTED to {@code agora.jobs.events}, and admitted jobs,
 * keyed by pool, to the pool stage.
 *
 * <p>The client's available balance lives in store {@value #ACCOUNTS}: admission applies its own
 * grant and hold at once and credits DEPOSIT and REFUND entries read back from the ledger. Job ids
 * already seen are kept in {@value #SEEN_JOBS}, so a repeated JobRequested is ignored. A job or
 * ledger entry out of {@link InputBounds}, and a credit that would overflow the balance, go to
 * {@code agora.dlq} with the reason, before anything is kept.
 */
final class AdmissionProcessor implements Processor<String, SpecificRecord, String, Flow> {
    static final String ACCOUNTS = "matcher-admission-accounts";
    static final String SEEN_JOBS = "matcher-admission-jobs";
    private static final Logger log = LoggerFactory.getLogger(AdmissionProcessor.class);

    private final MatcherConfig cfg;
    private final MatcherMeters meters;
    private final Serializer<JobRequested> jobBytes;
    private final Serializer<LedgerEntry> ledgerBytes;
    private final Serializer<JobCommand> commandBytes;
    private ProcessorContext<String, Flow> ctx;
    private KeyValueStore<String, Admission.Account> accounts;
    private KeyValueStore<String, Long> seen;

    AdmissionProcessor(MatcherConfig cfg, AgoraSerdes serdes, MatcherMeters meters) {
        this.cfg = cfg;
        this.meters = meters;
        this.jobBytes = serdes.valueSerde(Topics.JOB_REQUESTS).serializer();
        this.ledgerBytes = serdes.valueSerde(Topics.LEDGER).serializer();
        this.commandBytes = serdes.valueSerde(Topics.JOB_COMMANDS).serializer();
    }

    @Override
    public void init(ProcessorContext<String, Flow> context) {
        this.ctx = context;
        this.accounts = context.getStateStore(ACCOUNTS);
        this.seen = context.getStateStore(SEEN_JOBS);
    }

    @Override
    public void process(Record<String, SpecificRecord> record) {
        if (record.value() instanceof JobRequested job) {
            String bad = InputBounds.job(job);
            if (bad != null) {
                WorkerGateProcessor.deadLetter(ctx, record, jobBytes.serialize(Topics.JOB_REQUESTS.name(), job),
                        "job request out of bounds: " + bad);
                return;
            }
            try (MDC.MDCCloseable c = MDC.putCloseable("clientId", job.getClientId());
                 MDC.MDCCloseable j = MDC.putCloseable("jobId", job.getJobId())) {
                admit(record, job);
            }
        } else if (record.value() instanceof JobCommand c && isDisputeRequest(c)) {
            String bad = InputBounds.command(c);
            if (bad != null) {
                WorkerGateProcessor.deadLetter(ctx, record, commandBytes.serialize(Topics.JOB_COMMANDS.name(), c),
                        "job command out of bounds: " + bad);
                return;
            }
            try (MDC.MDCCloseable cl = MDC.putCloseable("clientId", c.getClientId());
                 MDC.MDCCloseable j = MDC.putCloseable("jobId", c.getJobId())) {
                dispute(record, c);
            }
        } else if (record.value() instanceof LedgerEntry entry) {
            String bad = InputBounds.ledger(entry);
            if (bad == null) {
                bad = credit(entry);
            } else {
                bad = "ledger entry out of bounds: " + bad;
            }
            if (bad != null) {
                WorkerGateProcessor.deadLetter(ctx, record, ledgerBytes.serialize(Topics.LEDGER.name(), entry), bad);
            }
        }
    }

    private void admit(Record<String, SpecificRecord> record, JobRequested job) {
        if (seen.get(job.getJobId()) != null) {
            log.info("job {} already seen, ignoring the repeated request", job.getJobId());
            return;
        }
        long now = ctx.currentSystemTimeMs();
        String clientId = job.getClientId();
        // decide before writing anything: a request that throws is dead-lettered unseen, so a replay is admitted
        Admission.Decision d = Admission.decide(accounts.get(clientId), job, cfg.starterGrantMicros());
        seen.put(job.getJobId(), now);
        // the client waits for this decision and the pool stage for the job: commit after this batch,
        // not at the next commit interval (Streams commits at most once per loop, so a burst shares one;
        // a backlog waits for the interval, Commits)
        Commits.soon(ctx, record.timestamp());
        accounts.put(clientId, d.account());
        long ts = record.timestamp();
        Headers trace = new RecordHeaders(); // every record admission writes continues the request's trace
        Traces.hop("admission", SpanKind.CONSUMER, record.headers(), trace);
        if (d.grantMicros() > 0) {
            emit(clientId, ts, Topics.LEDGER.name(), Postings.grant(clientId, d.grantMicros(), now), trace);
        }
        String pool = job.getRequirements().getPool();
        meters.admitted(d.admitted());
        if (!d.admitted()) {
            emit(job.getJobId(), ts, Topics.JOB_EVENTS.name(), event(job, JobEventType.REJECTED, d.reason(), 0, now), trace);
            return;
        }
        String jobId = job.getJobId();
        emit(clientId, ts, Topics.LEDGER.name(), Postings.hold(jobId, clientId, d.escrowMicros(), now), trace);
        emit(jobId, ts, Topics.JOB_EVENTS.name(), event(job, JobEventType.ACCEPTED, null, d.escrowMicros(), now), trace);
        ctx.forward(new Record<>(pool, new Flow.Admitted(job, d.escrowMicros()), ts, new RecordHeaders(trace.toArray())));
    }

    /** A client's DISPUTE as ingest-api writes it: its fee not yet held (admission's own hand-off carries it). */
    static boolean isDisputeRequest(JobCommand c) {
        return c.getType() == CommandType.DISPUTE && c.getFeeHeldMicros() < 0;
    }

    /**
     * A client's dispute: its fee ({@link io.agora.market.MarketRules#disputeFeeMicros}) is held here, where the
     * client's balance is known ({@link Admission#disputeFee}), once per job ({@code dispute|<jobId>} in
     * {@value #SEEN_JOBS}), and the DISPUTE is handed on to the verifier with the amount held; refused (too
     * little available, or the job's fee held already), the client gets JobEvent DISPUTED with the reason and
     * nothing is held.
     */
    private void dispute(Record<String, SpecificRecord> record, JobCommand c) {
        String jobId = c.getJobId();
        String clientId = c.getClientId();
        long now = ctx.currentSystemTimeMs();
        long ts = record.timestamp();
        Headers trace = new RecordHeaders();
        Traces.hop("admission", SpanKind.CONSUMER, record.headers(), trace);
        String seenKey = "dispute|" + jobId;
        if (seen.get(seenKey) != null) {
            emit(jobId, ts, Topics.JOB_EVENTS.name(), disputed(c, "refused: already disputed", now), trace);
            return;
        }
        long fee = cfg.rules().disputeFeeMicros();
        Admission.FeeDecision d = Admission.disputeFee(accounts.get(clientId), fee);
        if (!d.held()) {
            emit(jobId, ts, Topics.JOB_EVENTS.name(), disputed(c, "refused: " + d.reason(), now), trace);
            return;
        }
        seen.put(seenKey, now);
        accounts.put(clientId, d.account());
        emit(clientId, ts, Topics.LEDGER.name(), Postings.disputeFee(jobId, clientId, fee, now), trace);
        emit(jobId, ts, Topics.JOB_COMMANDS.name(), JobCommand.newBuilder(c).setEventId(UUID.randomUUID().toString())
                .setFeeHeldMicros(fee).setTimestamp(java.time.Instant.ofEpochMilli(now)).build(), trace);
    }

    /**
     * Credits a DEPOSIT, REFUND or SLASH (what a lying worker pays back and its share of the stake) to
     * the client's available balance, and applies a DISPUTE_FEE (the hold debits it, the refund
     * credits it); the reason when it cannot, else null. The hold of a dispute's fee was applied when admission
     * posted it ({@link #dispute}).
     */
    private String credit(LedgerEntry entry) {
        if (!InputBounds.creditsClient(entry) || Postings.isDisputeFeeHold(entry)) {
            return null;
        }
        String clientId = entry.getClientId();
        String account = Accounts.client(clientId);
        long amount = 0;
        for (Posting p : entry.getPostings()) {
            if (p.getAccountId().equals(account)) {
                amount += p.getAmountMicros();
            }
        }
        if (amount == 0) {
            return null;
        }
        Admission.Account a = accounts.get(clientId);
        try {
            accounts.put(clientId, (a == null ? Admission.Account.NEW : a).credit(amount));
        } catch (ArithmeticException e) {
            return "credit of " + amount + " overflows the available balance of " + clientId;
        }
        return null;
    }

    private void emit(String key, long ts, String topic, SpecificRecord value, Headers trace) {
        ctx.forward(new Record<>(key, Flow.Emit.of(topic, value), ts, new RecordHeaders(trace.toArray())));
    }

    private static JobEvent disputed(JobCommand c, String reason, long now) {
        return JobEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(c.getJobId())
                .setClientId(c.getClientId()).setType(JobEventType.DISPUTED).setReason(reason).setPool(c.getPool())
                .setTimestamp(java.time.Instant.ofEpochMilli(now)).build();
    }

    private static JobEvent event(JobRequested job, JobEventType type, String reason, long escrow, long now) {
        return JobEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(job.getJobId())
                .setClientId(job.getClientId()).setType(type).setReason(reason)
                .setPool(job.getRequirements().getPool()).setEscrowMicros(escrow)
                .setTimestamp(java.time.Instant.ofEpochMilli(now)).build();
    }
}
