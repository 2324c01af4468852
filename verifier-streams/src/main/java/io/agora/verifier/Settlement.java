package io.agora.verifier;

import io.agora.events.EntryKind;
import io.agora.events.JobSpec;
import io.agora.events.JobTerms;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.events.Posting;
import io.agora.events.Receipt;
import io.agora.events.ReceiptPayout;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.market.Postings;
import io.agora.market.Pricing;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * How a decided job's escrow is split. The job's escrow account {@code escrow:<jobId>} holds
 * {@code JobTerms.escrowMicros}; settlement empties it exactly:
 * <ul>
 *   <li>COMPLETED: each agreeing worker is paid
 *   {@link Pricing#payout} of its own result (per resource, its price at assignment capped by the
 *   client's ceiling, times its paid duration, times the units: cpu, GPU and memory), never more than what is left in escrow;
 *   dissenters and failed replicas get nothing; the rest is refunded. The paid duration is the
 *   duration the worker reported, capped by the duration the market observed (from the task's
 *   {@code assignedAt} to when the verifier received the result: a worker cannot have worked
 *   longer than it held the task) and by the job's timeout. A worker's report alone never
 *   raises what it is paid.</li>
 *   <li>FAILED because replicas agreed on a failure of the job's own (TIMEOUT, OUT_OF_MEMORY, OUTPUT_OVER_CAPS): paid
 *   like COMPLETED, the client pays the agreeing replicas' time (verifier README, Failures).</li>
 *   <li>any other FAILED (the market's failure), NO_CONSENSUS, EXPIRED, CANCELLED: everything is refunded, nobody is paid (a
 *   cancelled job has no verdict, so results already received are not paid either).</li>
 * </ul>
 * Zero amounts post no entry. The plan's {@link #receipt} lists exactly the payouts posted and the
 * refund, so a signed receipt and the ledger say the same thing. Transaction ids are {@code payout:<jobId>:<workerId>} and
 * {@code refund:<jobId>}, so the sink refuses a replay.
 */
public final class Settlement {
    /** What one agreeing worker earned (before the escrow cap) or is paid (after). */
    public record Share(String workerId, long micros) {
    }

    /** The split of one escrow: payouts in order, then the refund; {@code cost + refund == escrow}. */
    public record Plan(List<Share> payouts, long refundMicros) {
        public long costMicros() {
            return payouts.stream().mapToLong(Share::micros).sum();
        }
    }

    private Settlement() {
    }

    /**
     * What an agreeing result earns under the job's terms, {@code receivedAtMs} being when the
     * verifier received it (the timeout cap is {@link Pricing#payout}'s).
     */
    public static long earned(TaskAssigned task, TaskResult result, long receivedAtMs) {
        JobSpec spec = task.getSpec();
        JobTerms terms = task.getTerms();
        return Pricing.payout(Pricing.Rates.prices(task), task.getMinPricePerJobMicros(), Pricing.Rates.ceilings(terms),
                paidDurationMs(task, result, receivedAtMs), spec);
    }

    /** {@link #earned}'s time-based parts per resource, before the per-job minimum and the cap. */
    public static Pricing.Breakdown earnedParts(TaskAssigned task, TaskResult result, long receivedAtMs) {
        return Pricing.breakdown(Pricing.Rates.prices(task), Pricing.Rates.ceilings(task.getTerms()),
                paidDurationMs(task, result, receivedAtMs), task.getSpec());
    }

    /**
     * What the plan's payouts paid per resource: of each payout, its GPU part as earned, then its
     * memory part, within what was paid; the rest (the cpu part, and what the per-job minimum
     * added) is cpu. {@code earned} holds the {@link #earnedParts} by worker id; a worker without
     * parts was paid for cpu only. The three parts sum to {@link Plan#costMicros}.
     */
    public static Pricing.Breakdown costParts(Plan plan, Map<String, Pricing.Breakdown> earned) {
        long cpu = 0;
        long gpu = 0;
        long memory = 0;
        for (Share s : plan.payouts()) {
            Pricing.Breakdown e = earned.getOrDefault(s.workerId(), new Pricing.Breakdown(0, 0, 0));
            long g = Math.min(Math.max(0, e.gpuMicros()), s.micros());
            long m = Math.min(Math.max(0, e.memoryMicros()), s.micros() - g);
            gpu += g;
            memory += m;
            cpu += s.micros() - g - m;
        }
        return new Pricing.Breakdown(cpu, gpu, memory);
    }

    /** The reported duration, capped by the one observed: from {@code assignedAt} to {@code receivedAtMs}. */
    public static long paidDurationMs(TaskAssigned task, TaskResult result, long receivedAtMs) {
        long observed = Math.max(0, receivedAtMs - task.getAssignedAt().toEpochMilli());
        return Math.max(0, Math.min(result.getDurationMs(), observed));
    }

    /** COMPLETED: pay the agreeing workers in order, each capped by what is left, refund the rest. */
    public static Plan completed(long escrowMicros, List<Share> earned) {
        long left = Math.max(0, escrowMicros);
        List<Share> paid = new ArrayList<>();
        for (Share s : earned) {
            long p = Math.min(Math.max(0, s.micros()), left);
            left -= p;
            paid.add(new Share(s.workerId(), p));
        }
        return new Plan(List.copyOf(paid), left);
    }

    /** Every other outcome: the whole escrow goes back to the client. */
    public static Plan refundAll(long escrowMicros) {
        return new Plan(List.of(), Math.max(0, escrowMicros));
    }

    /** The balanced ledger transactions of a plan, keyed (by the caller) by client id. */
    public static List<LedgerEntry> entries(String jobId, String clientId, Plan plan, long timestamp) {
        List<LedgerEntry> out = new ArrayList<>();
        for (Share s : plan.payouts()) {
            if (s.micros() > 0) {
                out.add(Postings.payout(jobId, clientId, s.workerId(), s.micros(), timestamp));
            }
        }
        if (plan.refundMicros() > 0) {
            out.add(Postings.refund(jobId, clientId, plan.refundMicros(), "refund of unspent escrow", timestamp));
        }
        return out;
    }

    /**
     * The unsigned receipt of a plan: each payout posted by {@link #entries} (zero amounts post
     * nothing and are not listed), the refund and the escrow they empty, {@code agreedHash} and
     * {@code decidedAt} as in the verdict. The caller signs it with the market key.
     */
    public static Receipt receipt(String jobId, String clientId, Outcome outcome, String agreedHash, long escrowMicros,
                                  Plan plan, long decidedAt) {
        List<ReceiptPayout> payouts = new ArrayList<>();
        for (Share s : plan.payouts()) {
            if (s.micros() > 0) {
                payouts.add(new ReceiptPayout(s.workerId(), s.micros()));
            }
        }
        return Receipt.newBuilder().setJobId(jobId).setClientId(clientId).setOutcome(outcome).setAgreedHash(agreedHash)
                .setPayouts(payouts).setRefundMicros(plan.refundMicros()).setEscrowMicros(Math.max(0, escrowMicros))
                .setIssuedAt(Instant.ofEpochMilli(decidedAt)).setMarketKey("").setSignature(ByteBuffer.allocate(0)).build();
    }
}
