package io.agora.market;

import io.agora.events.EntryKind;
import io.agora.events.LedgerEntry;
import io.agora.events.Posting;
import io.agora.events.SlashShare;
import io.agora.events.SlashTaken;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The market's money vocabulary: every ledger transaction the market ever posts, each a balanced
 * transfer between two {@link Accounts} under a deterministic transaction id. The event id is
 * derived from the transaction id, so a retried or replayed posting is the same event and the
 * sink refuses it as a duplicate.
 *
 * <table>
 *   <tr><th>kind</th><th>transaction id</th><th>from → to</th></tr>
 *   <tr><td>STARTER_GRANT</td><td>{@code grant:<clientId>}</td><td>mint:grants → client</td></tr>
 *   <tr><td>DEPOSIT</td><td>{@code deposit:<clientId>:<depositId>}</td><td>mint:deposits → client</td></tr>
 *   <tr><td>ESCROW_HOLD</td><td>{@code hold:<jobId>}</td><td>client → escrow:job</td></tr>
 *   <tr><td>PAYOUT</td><td>{@code payout:<jobId>:<workerId>}</td><td>escrow:job → worker</td></tr>
 *   <tr><td>REFUND</td><td>{@code refund:<jobId>}</td><td>escrow:job → client</td></tr>
 *   <tr><td>STAKE</td><td>{@code stake:<workerId>:<seq>}</td><td>worker → stake:worker</td></tr>
 *   <tr><td>UNSTAKE</td><td>{@code unstake:<workerId>:<seq>}</td><td>stake:worker → worker</td></tr>
 *   <tr><td>SLASH</td><td>{@code slash:<jobId>:<workerId>}</td><td>worker (reclaim) and stake:worker →
 *   client, honest workers, mint:slashed ({@link Stake.Slash})</td></tr>
 *   <tr><td>DISPUTE_FEE</td><td>{@code dispute-fee:<jobId>}</td><td>client → escrow:job|dispute (dispute opened)</td></tr>
 *   <tr><td>DISPUTE_FEE</td><td>{@code dispute-fee-paid:<jobId>}</td><td>escrow:job|dispute → workers (dispute upheld)</td></tr>
 *   <tr><td>DISPUTE_FEE</td><td>{@code dispute-fee-refund:<jobId>}</td><td>escrow:job|dispute → client (dispute overturned)</td></tr>
 * </table>
 * Every entry is keyed, on the ledger topic, by its client id; STAKE and UNSTAKE concern no client
 * and name (and are keyed by) the worker instead. {@code <seq>} is the sequence number of the worker's
 * signed registration that asked for the bond (STAKE) or the unbond (UNSTAKE).
 */
public final class Postings {
    private Postings() {
    }

    /** Credits a new client once; there is one grant per client whatever happens. */
    public static LedgerEntry grant(String clientId, long micros, long timestampMs) {
        return transfer("grant:" + clientId, clientId, EntryKind.STARTER_GRANT, null, "starter grant", timestampMs,
                Accounts.MINT_GRANTS, Accounts.client(clientId), micros);
    }

    /**
     * Credits a client with money from outside the market. {@code depositId} names the deposit
     * (the operator's idempotency key): the same id twice is one deposit.
     */
    public static LedgerEntry deposit(String clientId, String depositId, long micros, String memo, long timestampMs) {
        return transfer("deposit:" + clientId + ":" + depositId, clientId, EntryKind.DEPOSIT, null,
                memo == null ? "deposit" : memo, timestampMs, Accounts.MINT_DEPOSITS, Accounts.client(clientId), micros);
    }

    /** Moves a job's maximum cost from its client into the job's own escrow account. */
    public static LedgerEntry hold(String jobId, String clientId, long micros, long timestampMs) {
        return transfer("hold:" + jobId, clientId, EntryKind.ESCROW_HOLD, jobId, "escrow hold", timestampMs,
                Accounts.client(clientId), Accounts.escrow(jobId), micros);
    }

    /** Pays one worker from a job's escrow; at most one payout per (job, worker). */
    public static LedgerEntry payout(String jobId, String clientId, String workerId, long micros, long timestampMs) {
        return transfer("payout:" + jobId + ":" + workerId, clientId, EntryKind.PAYOUT, jobId, "payout to " + workerId,
                timestampMs, Accounts.escrow(jobId), Accounts.worker(workerId), micros);
    }

    /** Returns what is left in a job's escrow to its client; at most one refund per job. */
    public static LedgerEntry refund(String jobId, String clientId, long micros, String memo, long timestampMs) {
        return transfer("refund:" + jobId, clientId, EntryKind.REFUND, jobId, memo, timestampMs,
                Accounts.escrow(jobId), Accounts.client(clientId), micros);
    }

    /** Bonds {@code micros} of a worker's own credits into its stake account. */
    public static LedgerEntry stake(String workerId, long seq, long micros, long timestampMs) {
        return transfer("stake:" + workerId + ":" + seq, workerId, EntryKind.STAKE, null, "stake bonded", timestampMs,
                Accounts.worker(workerId), Accounts.stake(workerId), micros);
    }

    /** Returns {@code micros} of a worker's stake to its own account once the unbond's cool-down is over. */
    public static LedgerEntry unstake(String workerId, long seq, long micros, long timestampMs) {
        return transfer("unstake:" + workerId + ":" + seq, workerId, EntryKind.UNSTAKE, null, "stake unbonded", timestampMs,
                Accounts.stake(workerId), Accounts.worker(workerId), micros);
    }

    /**
     * A worker found lying by a dispute of job {@code jobId}: what it was paid for the job goes back
     * to the client, and its stake is split as {@code slash} says. Zero legs are left out; at most one
     * slash per (job, worker).
     */
    public static LedgerEntry slash(String jobId, String clientId, String workerId, Stake.Slash slash, long timestampMs) {
        String tx = slashTransactionId(jobId, workerId);
        java.util.Map<String, Long> legs = new java.util.LinkedHashMap<>();
        legs.merge(Accounts.worker(workerId), -slash.reclaimMicros(), Long::sum);
        legs.merge(Accounts.stake(workerId), -slash.slashedMicros(), Long::sum);
        legs.merge(Accounts.client(clientId), slash.reclaimMicros() + slash.clientMicros(), Long::sum);
        slash.honestMicros().forEach((w, m) -> legs.merge(Accounts.worker(w), m, Long::sum));
        legs.merge(Accounts.MINT_SLASHED, slash.burnedMicros(), Long::sum);
        List<Posting> postings = new java.util.ArrayList<>();
        legs.forEach((account, micros) -> {
            if (micros != 0) {
                postings.add(new Posting(account, micros));
            }
        });
        return entry(tx, clientId, EntryKind.SLASH, jobId, "slash of " + workerId + ": dispute overturned its result",
                timestampMs, postings);
    }

    /**
     * What {@code slash} took from {@code workerId}, as the gate's SlashResult and the settlement receipt carry it;
     * {@link #slash(String, String, SlashTaken, long)} posts exactly the same legs.
     */
    public static SlashTaken taken(String workerId, Stake.Slash slash) {
        List<SlashShare> honest = new java.util.ArrayList<>();
        slash.honestMicros().forEach((w, m) -> honest.add(new SlashShare(w, m)));
        return new SlashTaken(workerId, slash.reclaimMicros(), slash.slashedMicros(), slash.clientMicros(), honest,
                slash.burnedMicros());
    }

    /** The SLASH transaction a receipt's {@link SlashTaken} stands for ({@link #slash(String, String, String, Stake.Slash, long)}). */
    public static LedgerEntry slash(String jobId, String clientId, SlashTaken t, long timestampMs) {
        java.util.Map<String, Long> honest = new java.util.LinkedHashMap<>();
        t.getHonestShares().forEach(h -> honest.merge(h.getWorkerId(), h.getMicros(), Long::sum));
        return slash(jobId, clientId, t.getWorkerId(), new Stake.Slash(t.getReclaimMicros(), t.getSlashedMicros(),
                t.getClientMicros(), honest, t.getBurnedMicros()), timestampMs);
    }

    /** The id of the one SLASH transaction of {@code workerId} for job {@code jobId}'s dispute. */
    public static String slashTransactionId(String jobId, String workerId) {
        return "slash:" + jobId + ":" + workerId;
    }

    /**
     * What a booked SLASH took, read back from its legs ({@link #slash(String, String, SlashTaken, long)} backwards): a
     * dispute no SlashResult receipted is settled from the ledger this way. {@code legs}: the postings of
     * {@code slash:<jobId>:<workerId>} in posting order, none when the slash took nothing. Empty when the legs are not
     * exactly what posting the result gives (another account, a negative share, a split that does not add up).
     */
    public static java.util.Optional<SlashTaken> takenFrom(String jobId, String clientId, String workerId, List<Posting> legs) {
        long reclaim = 0;
        long slashed = 0;
        long toClient = 0;
        long burned = 0;
        java.util.Map<String, Long> honest = new java.util.LinkedHashMap<>();
        for (Posting p : legs) {
            String account = p.getAccountId();
            if (account.equals(Accounts.worker(workerId))) {
                reclaim -= p.getAmountMicros();
            } else if (account.equals(Accounts.stake(workerId))) {
                slashed -= p.getAmountMicros();
            } else if (account.equals(Accounts.client(clientId))) {
                toClient += p.getAmountMicros();
            } else if (account.equals(Accounts.MINT_SLASHED)) {
                burned += p.getAmountMicros();
            } else if (account.startsWith(Accounts.worker(""))) {
                honest.merge(account.substring(Accounts.worker("").length()), p.getAmountMicros(), Long::sum);
            } else {
                return java.util.Optional.empty();
            }
        }
        long clientShare = toClient - reclaim;
        long shared = honest.values().stream().mapToLong(Long::longValue).sum();
        if (reclaim < 0 || slashed < 0 || clientShare < 0 || burned < 0 || honest.values().stream().anyMatch(m -> m <= 0)
                || clientShare + shared + burned != slashed) {
            return java.util.Optional.empty();
        }
        List<SlashShare> shares = new java.util.ArrayList<>();
        honest.forEach((w, m) -> shares.add(new SlashShare(w, m)));
        SlashTaken t = new SlashTaken(workerId, reclaim, slashed, clientShare, shares, burned);
        return slash(jobId, clientId, t, 0).getPostings().equals(legs) ? java.util.Optional.of(t) : java.util.Optional.empty();
    }

    /** Whether {@code e} is the hold of a dispute's fee ({@link #disputeFee}), not its payment or refund. */
    public static boolean isDisputeFeeHold(LedgerEntry e) {
        return e.getKind() == EntryKind.DISPUTE_FEE && e.getTransactionId() != null
                && e.getTransactionId().startsWith("dispute-fee:");
    }

    /**
     * Holds a dispute's fee ({@link MarketRules#disputeFeeMicros}) from the client; at most one per job. Posted by
     * the matcher's admission, which knows the client's balance.
     */
    public static LedgerEntry disputeFee(String jobId, String clientId, long micros, long timestampMs) {
        return transfer("dispute-fee:" + jobId, clientId, EntryKind.DISPUTE_FEE, jobId, "dispute fee held", timestampMs,
                Accounts.client(clientId), Accounts.disputeEscrow(jobId), micros);
    }

    /**
     * The re-run confirmed the verdict: the held fee goes to {@code workers} in equal shares, the
     * remainder of the division to the first; at most one per job. {@code workers} is not empty.
     */
    public static LedgerEntry disputeFeePaid(String jobId, String clientId, List<String> workers, long micros,
                                             long timestampMs) {
        String tx = "dispute-fee-paid:" + jobId;
        List<Posting> postings = new java.util.ArrayList<>();
        postings.add(new Posting(Accounts.disputeEscrow(jobId), -micros));
        long share = micros / workers.size();
        for (int i = 0; i < workers.size(); i++) {
            long m = share + (i == 0 ? micros - share * workers.size() : 0);
            if (m != 0) {
                postings.add(new Posting(Accounts.worker(workers.get(i)), m));
            }
        }
        return entry(tx, clientId, EntryKind.DISPUTE_FEE, jobId, "dispute fee paid: the re-run confirmed the verdict",
                timestampMs, postings);
    }

    /** The re-run overturned the verdict: the held fee goes back to the client; at most one per job. */
    public static LedgerEntry disputeFeeRefund(String jobId, String clientId, long micros, long timestampMs) {
        return transfer("dispute-fee-refund:" + jobId, clientId, EntryKind.DISPUTE_FEE, jobId,
                "dispute fee refunded: the re-run overturned the verdict", timestampMs, Accounts.disputeEscrow(jobId),
                Accounts.client(clientId), micros);
    }

    /** The event id of a transaction: a name-based UUID of its transaction id. */
    public static String eventId(String transactionId) {
        return UUID.nameUUIDFromBytes(transactionId.getBytes(StandardCharsets.UTF_8)).toString();
    }

    private static LedgerEntry transfer(String tx, String clientId, EntryKind kind, String jobId, String memo,
                                        long timestampMs, String from, String to, long micros) {
        return entry(tx, clientId, kind, jobId, memo, timestampMs, List.of(new Posting(from, -micros), new Posting(to, micros)));
    }

    private static LedgerEntry entry(String tx, String clientId, EntryKind kind, String jobId, String memo, long timestampMs,
                                     List<Posting> postings) {
        return LedgerEntry.newBuilder()
                .setEventId(eventId(tx))
                .setTransactionId(tx)
                .setClientId(clientId)
                .setKind(kind)
                .setPostings(postings)
                .setJobId(jobId)
                .setMemo(memo)
                .setTimestamp(Instant.ofEpochMilli(timestampMs))
                .build();
    }
}
