package io.agora.verifier;

import io.agora.events.DisputeFeePayout;
import io.agora.events.DisputeReceipt;
import io.agora.events.JobCommand;
import io.agora.events.JobTerms;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.events.Posting;
import io.agora.events.SettlementReceipt;
import io.agora.events.SlashResult;
import io.agora.events.SlashTaken;
import io.agora.events.StakeAction;
import io.agora.events.StakeOrder;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.market.Accounts;
import io.agora.market.MarketRules;
import io.agora.market.Postings;
import io.agora.schemas.Identity;
import io.agora.schemas.Receipts;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A client's dispute of a COMPLETED verdict, the part of a job's case ({@link JobCase}) that
 * opens and decides it. Within the dispute window the verifier asks the matcher for
 * {@code quorum} more replicas on workers that held none, and compares them with the consensus.
 * The escrow was settled with the verdict and the verifier never creates credits: money moves
 * through the workers' stakes, which the matcher's gate holds. Opening LOCKs the stake of each
 * original agreeing worker; if a strict majority of the dispute replicas agree on another output,
 * each of them loses {@code repDissent} and is SLASHed (what the verdict paid it reclaimed for the
 * client, part of its stake to the client and to the dispute's honest workers, the rest burned:
 * market's {@code Stake}), and JobEvent DISPUTED says "overturned"; otherwise their stakes are
 * RELEASEd and it says "upheld". Dispute replicas are scored like voters.
 *
 * <p>The client pays a fee to dispute ({@link MarketRules#disputeFeeMicros}): the matcher's admission holds it
 * from the client's balance ({@code dispute-fee:<jobId>}, into {@code escrow:<jobId>|dispute}, once per job) and
 * hands the dispute on with the amount held ({@code JobCommand.feeHeldMicros}), which the verifier keeps in the
 * job's state ({@link JobState#disputeFeeMicros}) and pays or refunds exactly; it is
 * refunded to the client when the dispute is refused here or overturns the verdict ({@code dispute-fee-refund:<jobId>}), and
 * paid when it upholds it ({@code dispute-fee-paid:<jobId>}) in equal shares to the dispute
 * replicas' workers that confirmed the verdict, or, when none did (the re-run failed or did not
 * finish by the deadline), to the original agreeing workers, whose result stands. Each posting has
 * a deterministic transaction id and is written once: a second dispute is refused, a decided one
 * is never decided again.
 *
 * <p>The decision's DISPUTED event carries a {@link DisputeReceipt} signed by the market's key: overturned or
 * upheld, the hash decided on, the fee and exactly where its DISPUTE_FEE posting sent it, the workers ordered
 * slashed and the honest workers sharing their slashes. The slash amounts are the gate's to book, from the bond
 * it holds ({@code slash:<jobId>:<workerId>}), so an overturned dispute is settled in a second step: the gate
 * sends what each SLASH took ({@link SlashResult}, {@code agora.jobs.slashes}), the job keeps each slashed worker's
 * ({@link JobState#slashesTaken}), and once every one is in, a JobEvent DISPUTED "settled" carries a
 * {@link SettlementReceipt} signed by the market's key: each slash's amounts, in the order the dispute receipt
 * names the slashed workers, exactly the job's SLASH postings.
 */
final class Dispute {
    /** What a dispute reads and writes of the case it is part of: one input's step. */
    interface Case {
        JobState state();

        Map<String, TaskAssigned> tasks();

        Map<String, TaskResult> results();

        long now();

        CaseRecords records();

        /** The job's record changed. */
        void changed();

        /** Asks the matcher for replicas {@code from .. from+count-1} on workers that held none of the job's. */
        void requestReplicas(int from, int count, String reason);

        /** A record to emit (its value's type picks the topic). */
        void emit(String key, org.apache.avro.specific.SpecificRecord value);

        /** A refused input, for the DLQ with the reason. */
        void refuse(org.apache.avro.specific.SpecificRecord input, String reason);
    }

    private final VerifierConfig cfg;
    private final Consensus consensus;
    private final Identity market;

    Dispute(VerifierConfig cfg, Consensus consensus, Identity market) {
        this.cfg = cfg;
        this.consensus = consensus;
        this.market = market;
    }

    /** Whether the job has a dispute not yet decided. */
    static boolean isOpen(JobState s) {
        return s.disputeFrom >= 0 && !s.disputeResolved;
    }

    /**
     * An overturned dispute whose settlement receipt is not signed yet: a slashed worker's SlashResult is still awaited,
     * so the job outlives its retention once ({@link JobCase#retireAt}).
     */
    static boolean awaitsSlashes(JobState s) {
        return s.overturned && !s.settlementSigned;
    }

    /**
     * The job retires with slash results still missing (the gate did not answer within a second retention): a
     * DISPUTED "unsettled" event says how many came in; a later one goes to the DLQ, and the operator settles the
     * dispute from the ledger's SLASH postings ({@code agora settle-disputes}).
     */
    void unsettled(Case k) {
        JobState s = k.state();
        event(k, s.first.getTerms().getClientId(), "unsettled: " + s.slashesTaken.size() + " of " + slashedCount(s)
                + " slash results came in before the job retired; its settlement receipt is left to the operator, from the"
                + " ledger's SLASH postings (agora settle-disputes)");
    }

    private static int slashedCount(JobState s) {
        return new HashSet<>(s.agreeing).size();
    }

    /**
     * A DISPUTE command: the client's own request is admission's (it holds the fee and hands the dispute on,
     * {@code feeHeldMicros} set); one whose fee is held is refused with a reason, the fee refunded, or opened.
     */
    void open(JobCommand c, Case k) {
        if (c.getFeeHeldMicros() < 0) {
            return; // the client's request: the matcher's admission holds its fee first
        }
        JobState s = k.state();
        if (s != null && s.disputeFrom >= 0) {
            // admission holds one fee per job: this one's hold, if any, had the same transaction id and was refused
            event(k, c.getClientId(), "refused: already disputed");
            return;
        }
        String refused = refusal(c, s, k.now());
        if (refused != null) {
            k.emit(c.getClientId(), Postings.disputeFeeRefund(k.records().jobId(), c.getClientId(), c.getFeeHeldMicros(), k.now()));
            event(k, c.getClientId(), "refused: " + refused + "; the dispute fee is refunded");
            return;
        }
        JobTerms terms = s.first.getTerms();
        int count = consensus.quorumOf(terms.getStrategy(), terms.getRedundancy(), terms.getQuorum());
        s.disputeFrom = s.slots();
        s.disputeCount = count;
        s.extraRequested += count;
        s.disputeFeeMicros = c.getFeeHeldMicros();
        k.changed();
        k.requestReplicas(s.disputeFrom, count, io.agora.market.Eligibility.DISPUTE_REPLICAS);
        event(k, terms.getClientId(), "opened: " + count + " dispute replicas from replica " + s.disputeFrom);
        for (String w : s.agreeing) { // their stake cannot leave while the dispute is open
            reputation(k, w, 0, "dispute opened: stake locked", stakeOrder(s, StakeAction.LOCK, 0, List.of()));
        }
    }

    /** Why the dispute {@code c} of a job in state {@code s} cannot open, else null. */
    private String refusal(JobCommand c, JobState s, long now) {
        if (s == null || s.first == null || s.outcome != Outcome.COMPLETED) {
            return "the job has no completed verdict";
        }
        JobTerms terms = s.first.getTerms();
        if (!terms.getClientId().equals(c.getClientId())) {
            return "not the job's client";
        }
        if (now - s.decidedAt > cfg.disputeWindow().toMillis()) {
            return "dispute window closed";
        }
        if (now >= terms.getDeadline().toEpochMilli()) {
            return "past the job's deadline";
        }
        int count = consensus.quorumOf(terms.getStrategy(), terms.getRedundancy(), terms.getQuorum());
        if (s.slots() + count > terms.getMaxTotalResults()) {
            return count + " dispute replicas would exceed maxTotalResults " + terms.getMaxTotalResults()
                    + " (" + s.slots() + " replicas already)";
        }
        return null;
    }

    /**
     * Decides the dispute once all its replicas finished; {@code atDeadline}: the job's deadline
     * passed, dispute replicas still running count as failed.
     */
    void evaluate(boolean atDeadline, Case k) {
        JobState s = k.state();
        if (s.disputeResolved) {
            return;
        }
        Set<Integer> finished = new HashSet<>();
        for (int r : s.failedReplicas) {
            if (s.isDisputeReplica(r)) {
                finished.add(r);
            }
        }
        List<TaskResult> votes = new ArrayList<>();
        for (String taskId : s.counted) {
            TaskResult r = k.results().get(taskId);
            if (s.isDisputeReplica(r.getReplica())) {
                finished.add(r.getReplica());
                if (JobCase.hasOutput(r)) {
                    votes.add(r);
                }
            }
        }
        if (finished.size() < s.disputeCount && !atDeadline) {
            return;
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        votes.forEach(r -> counts.merge(r.getOutputSha256(), 1, Integer::sum));
        Optional<String> other = counts.entrySet().stream()
                .filter(e -> !e.getKey().equals(s.consensusHash) && e.getValue() * 2 > s.disputeCount)
                .map(Map.Entry::getKey).findFirst();
        String winner = other.orElse(s.consensusHash);
        for (TaskResult r : votes) {
            if (r.getOutputSha256().equals(winner)) {
                reputation(k, r.getWorkerId(), cfg.repAgree(), "agreed with dispute outcome", null);
            } else {
                reputation(k, r.getWorkerId(), cfg.repDissent(), "dissented from dispute outcome", null);
            }
        }
        String clientId = s.first.getTerms().getClientId();
        if (other.isPresent()) {
            List<String> honest = votes.stream().filter(r -> r.getOutputSha256().equals(winner))
                    .map(TaskResult::getWorkerId).distinct().toList();
            Map<String, Long> paid = paidAtVerdict(k);
            for (String w : s.agreeing) {
                reputation(k, w, cfg.repDissent(), "consensus overturned by dispute",
                        stakeOrder(s, StakeAction.SLASH, paid.getOrDefault(w, 0L), honest));
            }
            s.overturned = true;
            LedgerEntry fee = Postings.disputeFeeRefund(k.records().jobId(), clientId, s.disputeFeeMicros, k.now());
            k.emit(clientId, fee);
            event(k, clientId, "overturned: dispute replicas agree on " + winner + "; " + s.agreeing.size()
                    + " original workers slashed, what they were paid reclaimed for the client", winner,
                    receipt(k, true, winner, fee, List.copyOf(s.agreeing), honest));
        } else {
            for (String w : s.agreeing) {
                reputation(k, w, 0, "dispute upheld: stake released", stakeOrder(s, StakeAction.RELEASE, 0, List.of()));
            }
            List<String> confirming = votes.stream().filter(r -> r.getOutputSha256().equals(winner))
                    .map(TaskResult::getWorkerId).distinct().toList();
            LedgerEntry fee = Postings.disputeFeePaid(k.records().jobId(), clientId,
                    confirming.isEmpty() ? List.copyOf(s.agreeing) : confirming, s.disputeFeeMicros, k.now());
            k.emit(clientId, fee);
            event(k, clientId, "upheld", winner, receipt(k, false, winner, fee, List.of(), List.of()));
        }
        s.disputeResolved = true;
        k.changed();
    }

    /**
     * The matcher gate's result of one SLASH this dispute ordered: kept, and once every slashed worker's is in, the
     * settlement signed. A result no overturned dispute of this job waits for (another job's, a worker not slashed,
     * another client, a second different result for the same worker) is refused with the reason; the same result
     * again (a redelivery) changes nothing.
     */
    void slashed(SlashResult r, Case k) {
        JobState s = k.state();
        SlashTaken t = r.getTaken();
        String refused = null;
        if (s == null || s.first == null || !s.overturned) {
            refused = "no overturned dispute of job " + r.getJobId() + " ordered a slash";
        } else if (!s.agreeing.contains(t.getWorkerId())) {
            refused = "worker " + t.getWorkerId() + " was not ordered slashed for job " + r.getJobId();
        } else if (!s.first.getTerms().getClientId().equals(r.getClientId())) {
            refused = "not the job's client";
        }
        Optional<SlashTaken> before = s == null ? Optional.empty()
                : s.slashesTaken.stream().filter(x -> x.getWorkerId().equals(t.getWorkerId())).findFirst();
        if (refused == null && before.isPresent()) {
            if (before.get().equals(t)) {
                return;
            }
            refused = "a second, different slash result for worker " + t.getWorkerId();
        }
        if (refused != null) {
            k.refuse(r, refused);
            return;
        }
        s.slashesTaken.add(t);
        k.changed();
        if (s.settlementSigned || s.slashesTaken.size() < slashedCount(s)) {
            return;
        }
        List<SlashTaken> ordered = new ArrayList<>();
        for (String w : s.agreeing) {
            s.slashesTaken.stream().filter(x -> x.getWorkerId().equals(w)).findFirst()
                    .filter(x -> !ordered.contains(x)).ifPresent(ordered::add);
        }
        String clientId = r.getClientId();
        SettlementReceipt receipt = Receipts.sign(SettlementReceipt.newBuilder().setJobId(k.records().jobId())
                .setClientId(clientId).setSlashes(ordered).setIssuedAt(Instant.ofEpochMilli(k.now())).setMarketKey("")
                .setSignature(ByteBuffer.allocate(0)).build(), market);
        s.settlementSigned = true;
        long taken = ordered.stream().mapToLong(x -> x.getReclaimMicros() + x.getSlashedMicros()).sum();
        k.emit(k.records().jobId(), io.agora.events.JobEvent.newBuilder(k.records().disputeEvent(clientId,
                        s.first.getTerms().getPool(), "settled: " + ordered.size() + " slashes took " + taken
                                + " micro-credits (what the job paid them and part of their bonds)", null, null))
                .setSettlementReceipt(receipt).build());
    }

    /**
     * What the verdict paid each original agreeing worker: {@link Settlement#completed} over the
     * same agreeing results, in the same order, with the same receipt times as at the verdict.
     */
    private static Map<String, Long> paidAtVerdict(Case k) {
        JobState s = k.state();
        List<Settlement.Share> earned = new ArrayList<>();
        for (String w : s.agreeing) {
            long micros = 0;
            for (String taskId : s.counted) {
                TaskResult r = k.results().get(taskId);
                if (r.getWorkerId().equals(w) && !s.isDisputeReplica(r.getReplica()) && JobCase.isVote(r)
                        && JobCase.ballot(r).equals(s.consensusHash)) {
                    micros = Settlement.earned(k.tasks().get(taskId), r, s.receivedAt.getOrDefault(taskId, s.decidedAt));
                    break;
                }
            }
            earned.add(new Settlement.Share(w, micros));
        }
        Map<String, Long> paid = new HashMap<>();
        Settlement.completed(s.first.getTerms().getEscrowMicros(), earned).payouts()
                .forEach(p -> paid.merge(p.workerId(), p.micros(), Long::sum));
        return paid;
    }

    /** The decision's receipt, its fee legs read off the DISPUTE_FEE posting {@code fee} itself, signed by the market. */
    private DisputeReceipt receipt(Case k, boolean overturned, String decidedHash, LedgerEntry fee, List<String> slashed,
                                   List<String> honest) {
        JobState s = k.state();
        String clientId = s.first.getTerms().getClientId();
        List<DisputeFeePayout> payouts = new ArrayList<>();
        long refund = 0;
        for (Posting p : fee.getPostings()) {
            if (p.getAccountId().equals(Accounts.client(clientId))) {
                refund += p.getAmountMicros();
            } else if (p.getAmountMicros() > 0 && p.getAccountId().startsWith(Accounts.worker(""))) {
                payouts.add(new DisputeFeePayout(p.getAccountId().substring(Accounts.worker("").length()), p.getAmountMicros()));
            }
        }
        return Receipts.sign(DisputeReceipt.newBuilder().setJobId(k.records().jobId()).setClientId(clientId)
                .setOverturned(overturned).setDecidedHash(decidedHash).setFeeMicros(s.disputeFeeMicros)
                .setFeePayouts(payouts).setFeeRefundMicros(refund).setSlashed(slashed).setHonestWorkers(honest)
                .setIssuedAt(Instant.ofEpochMilli(k.now())).setMarketKey("").setSignature(ByteBuffer.allocate(0)).build(),
                market);
    }

    private static StakeOrder stakeOrder(JobState s, StakeAction action, long reclaimMicros, List<String> honest) {
        return new StakeOrder(action, s.first.getTerms().getClientId(), reclaimMicros, honest);
    }

    private static void event(Case k, String clientId, String reason) {
        event(k, clientId, reason, null, null);
    }

    /**
     * A DISPUTED event; {@code decidedHash}: the hash a decided dispute settles on, {@code receipt}: its signed
     * receipt (both null while it is not decided).
     */
    private static void event(Case k, String clientId, String reason, String decidedHash, DisputeReceipt receipt) {
        JobState s = k.state();
        k.emit(k.records().jobId(), k.records().disputeEvent(clientId,
                s == null || s.first == null ? null : s.first.getTerms().getPool(), reason, decidedHash, receipt));
    }

    private static void reputation(Case k, String workerId, int delta, String reason, StakeOrder stake) {
        k.emit(workerId, k.records().reputation(workerId, delta, reason, stake));
    }
}
