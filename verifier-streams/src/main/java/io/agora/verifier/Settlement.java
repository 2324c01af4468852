package io.agora.verifier;

import io.agora.events.EntryKind;
import io.agora.events.JobSpec;
import io.agora.events.JobTerms;
import io.agora.events.LedgerEntry;
import io.agora.events.Posting;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.market.Postings;
import io.agora.market.Pricing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * How a decided job's escrow is split. The job's escrow account {@code escrow:<jobId>} holds
 * {@code JobTerms.escrowMicros}; settlement empties it exactly:
 * <ul>
 *   <li>COMPLETED: each agreeing worker is paid
 *   {@link Pricing#payout} of its own result (its price at assignment, capped by the client's max
 *   price, times its paid duration, times cpu units), never more than what is left in escrow;
 *   dissenters and failed replicas get nothing; the rest is refunded. The paid duration is the
 *   duration the worker reported, capped by the duration the market observed (from the task's
 *   {@code assignedAt} to when the verifier received the result: a worker cannot have worked
 *   longer than it held the task) and by the job's timeout. A worker's report alone never
 *   raises what it is paid.</li>
 *   <li>FAILED because replicas agreed on a failure of the job's own (TIMEOUT, OUT_OF_MEMORY): paid
 *   like COMPLETED, the client pays the agreeing replicas' time (verifier README, Failures).</li>
 *   <li>any other FAILED (the market's failure), NO_CONSENSUS, EXPIRED, CANCELLED: everything is refunded, nobody is paid (a
 *   cancelled job has no verdict, so results already received are not paid either).</li>
 * </ul>
 * Zero amounts post no entry. Transaction ids are {@code payout:<jobId>:<workerId>} and
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
        return Pricing.payout(task.getPricePerCpuSecondMicros(), task.getMinPricePerJobMicros(),
                terms.getMaxPricePerCpuSecondMicros(), paidDurationMs(task, result, receivedAtMs), spec);
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
}
