package io.agora.market;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A worker's bonded stake: credits it moved from its own account ({@code worker:<id>}) into
 * {@code stake:<id>}, which it loses in part when a dispute proves it lied. Pure rules, no I/O:
 * the matcher's worker gate keeps one {@link Account} per worker and posts what these rules decide
 * ({@link Postings#stake}, {@link Postings#unstake}, {@link Postings#slash}).
 *
 * <ul>
 *   <li><b>Bond.</b> A signed registration names the stake the worker wants bonded. More than it has
 *   bonded: the difference is bonded at once, as far as its available credits go (what the market saw
 *   credited to {@code worker:<id>}: payouts, honest shares of slashes, unstakes, minus stakes and
 *   reclaims), so the account never goes below zero.</li>
 *   <li><b>Unbond.</b> Less (or a deregistration: nothing): the difference starts unbonding and is
 *   returned only after the cool-down; until then it stays slashable. An unbond asked while a dispute
 *   names the worker is refused, and an unbond due during a dispute waits for its end: a worker cannot
 *   flee a dispute with its stake.</li>
 *   <li><b>Slash</b> ({@link #slash}): the worker pays back what it was paid for the disputed job (as
 *   far as its available credits go) to the client, and loses {@link #SLASH_BPS} of its bond. What its
 *   credits could not pay back goes to the client first out of the slashed amount; of the rest,
 *   {@link #CLIENT_BPS} to the client, {@link #HONEST_BPS} shared equally by the workers whose
 *   dispute replicas contradicted it, the remainder burned to {@link Accounts#MINT_SLASHED}.</li>
 * </ul>
 */
public final class Stake {
    /** Share of the bond a lost dispute takes, in basis points: half. */
    public static final long SLASH_BPS = 5_000;
    /** Share of the slashed amount that compensates the client: 40 %. */
    public static final long CLIENT_BPS = 4_000;
    /** Share of the slashed amount shared by the honest dispute workers: 40 %; the remaining 20 % is burned. */
    public static final long HONEST_BPS = 4_000;
    private static final long BPS = 10_000;

    private Stake() {
    }

    /**
     * One worker's stake as the market keeps it.
     *
     * @param availableMicros credits of {@code worker:<id>} not bonded
     * @param bondedMicros    balance of {@code stake:<id>}, the unbonding part included
     * @param unbondingMicros part of the bond waiting out its cool-down
     * @param unbondDueAt     when that part may be returned (ms)
     * @param unbondSeq       registration sequence number that asked for the unbond (names the UNSTAKE)
     * @param disputes        jobs whose open dispute names the worker
     */
    public record Account(long availableMicros, long bondedMicros, long unbondingMicros, long unbondDueAt,
                          long unbondSeq, Set<String> disputes) {
        public static final Account NEW = new Account(0, 0, 0, 0, -1, Set.of());

        public Account {
            disputes = Set.copyOf(new TreeSet<>(disputes));
        }

        /** The bond that stays: what counts for a pool's minimum and for matching. */
        public long effectiveMicros() {
            return bondedMicros - unbondingMicros;
        }

        public Account credit(long micros) {
            return new Account(Math.addExact(availableMicros, micros), bondedMicros, unbondingMicros, unbondDueAt,
                    unbondSeq, disputes);
        }

        public Account lock(String jobId) {
            Set<String> d = new TreeSet<>(disputes);
            d.add(jobId);
            return new Account(availableMicros, bondedMicros, unbondingMicros, unbondDueAt, unbondSeq, d);
        }

        public Account release(String jobId) {
            Set<String> d = new TreeSet<>(disputes);
            d.remove(jobId);
            return new Account(availableMicros, bondedMicros, unbondingMicros, unbondDueAt, unbondSeq, d);
        }
    }

    /**
     * What a registration's requested stake does.
     *
     * @param account      the account after it
     * @param bondMicros   to post as STAKE now (0: none)
     * @param refused      why the unbond it asked for was refused, else null
     */
    public record Change(Account account, long bondMicros, String refused) {
    }

    /** The worker asks, in its registration {@code seq}, to keep {@code targetMicros} bonded. */
    public static Change request(Account a, long targetMicros, long seq, long now, Duration coolDown) {
        long target = Math.max(0, targetMicros);
        if (target >= a.effectiveMicros()) {
            long keep = Math.min(target, a.bondedMicros());
            long bond = Math.min(target - keep, a.availableMicros());
            Account next = new Account(a.availableMicros() - bond, a.bondedMicros() + bond, a.bondedMicros() - keep,
                    a.unbondDueAt(), a.unbondSeq(), a.disputes());
            return new Change(next, bond, null);
        }
        if (!a.disputes().isEmpty()) {
            return new Change(a, 0, refusal(a.disputes().iterator().next()));
        }
        return new Change(new Account(a.availableMicros(), a.bondedMicros(), a.bondedMicros() - target,
                now + coolDown.toMillis(), seq, a.disputes()), 0, null);
    }

    /**
     * A dispute of job {@code jobId}, opened at {@code openedAt} (ms), names the worker: its stake cannot leave
     * until the dispute ends. The gate reads the dispute (a StakeOrder LOCK) and the worker's registrations from
     * different topics, so it may read an unbond asked after the dispute opened before the dispute itself: such
     * an unbond (asked at its due time less {@code coolDown}) is refused now as it would have been in the other
     * order (the bond stays, the worker asks again once the dispute is over). One asked before the dispute
     * opened waits for its end ({@link #due}).
     */
    public static Change lock(Account a, String jobId, long openedAt, Duration coolDown) {
        Account locked = a.lock(jobId);
        if (a.unbondingMicros() > 0 && a.unbondDueAt() - coolDown.toMillis() >= openedAt) {
            return new Change(new Account(locked.availableMicros(), locked.bondedMicros(), 0, 0, -1, locked.disputes()),
                    0, refusal(jobId));
        }
        return new Change(locked, 0, null);
    }

    private static String refusal(String jobId) {
        return "unbond refused: an open dispute names the worker (job " + jobId + ")";
    }

    /** What a due unbond returns: the account after it and the UNSTAKE amount (0: nothing due). */
    public record Return(Account account, long unstakeMicros, long seq) {
    }

    /** The unbonding part once its cool-down is over and no dispute names the worker. */
    public static Return due(Account a, long now) {
        if (a.unbondingMicros() <= 0 || now < a.unbondDueAt() || !a.disputes().isEmpty()) {
            return new Return(a, 0, -1);
        }
        long u = a.unbondingMicros();
        return new Return(new Account(a.availableMicros() + u, a.bondedMicros() - u, 0, 0, -1, a.disputes()), u,
                a.unbondSeq());
    }

    /**
     * The split of one slash; its legs balance: {@code reclaim + slashed = client share + reclaim +
     * honest shares + burned}.
     */
    public record Slash(long reclaimMicros, long slashedMicros, long clientMicros, Map<String, Long> honestMicros,
                        long burnedMicros) {
    }

    /** The worker lost job {@code jobId}'s dispute; {@code paidMicros} is what that job paid it. */
    public static Slash slash(Account a, long paidMicros, List<String> honestWorkers) {
        long reclaim = Math.max(0, Math.min(paidMicros, a.availableMicros()));
        long slashed = share(a.bondedMicros(), SLASH_BPS);
        // what the worker's credits could not pay back comes first out of the slashed bond: the
        // client is made whole before anyone shares the rest
        long cover = Math.min(Math.max(0, paidMicros) - reclaim, slashed);
        long rest = slashed - cover;
        long client = cover + share(rest, CLIENT_BPS);
        Map<String, Long> honest = new LinkedHashMap<>();
        List<String> distinct = honestWorkers.stream().distinct().toList();
        long each = distinct.isEmpty() ? 0 : share(rest, HONEST_BPS) / distinct.size();
        if (each > 0) {
            distinct.forEach(w -> honest.put(w, each));
        }
        long burned = slashed - client - each * honest.size();
        return new Slash(reclaim, slashed, client, java.util.Collections.unmodifiableMap(honest), burned);
    }

    /** The account after {@code s}: the job's dispute is over, the bond and credits reduced. */
    public static Account after(Account a, String jobId, Slash s) {
        long bonded = a.bondedMicros() - s.slashedMicros();
        Account next = new Account(a.availableMicros() - s.reclaimMicros(), bonded,
                Math.min(a.unbondingMicros(), bonded), a.unbondDueAt(), a.unbondSeq(), a.disputes());
        return next.release(jobId);
    }

    /** {@code micros × bps / 10 000}, rounded down, without overflow for any non-negative long. */
    static long share(long micros, long bps) {
        long m = Math.max(0, micros);
        return m / BPS * bps + m % BPS * bps / BPS;
    }
}
