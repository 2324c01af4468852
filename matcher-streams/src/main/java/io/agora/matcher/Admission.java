package io.agora.matcher;

import io.agora.events.JobRequested;
import io.agora.market.Pricing;

/**
 * The money rule at the door: a client is granted the starter credits once, and a job is
 * admitted only when the client's available balance covers its maximum cost
 * ({@link Pricing#maxCost}), which is then held in the job's escrow.
 */
public final class Admission {
    /** A client's account as admission sees it. */
    public record Account(long availableMicros, boolean granted) {
        public static final Account NEW = new Account(0, false);

        public Account credit(long micros) {
            return new Account(Math.addExact(availableMicros, micros), granted);
        }
    }

    /** What admission decided about one job. */
    public record Decision(Account account, long grantMicros, boolean admitted, long escrowMicros, String reason) {
    }

    /** What admission decided about a dispute's fee: held (the account after the hold) or refused with the reason. */
    public record FeeDecision(Account account, boolean held, String reason) {
    }

    private Admission() {
    }

    /**
     * A client's dispute costs {@code feeMicros} ({@link io.agora.market.MarketRules#disputeFeeMicros}): held
     * only when its available balance covers it, as a job's escrow is. Admission sees a client's requests one at
     * a time, so two disputes, or a dispute and a job, racing for one balance cannot both take it.
     */
    public static FeeDecision disputeFee(Account account, long feeMicros) {
        Account a = account == null ? Account.NEW : account;
        if (a.availableMicros() < feeMicros) {
            return new FeeDecision(a, false, "insufficient credits: available " + a.availableMicros()
                    + ", the dispute fee is " + feeMicros);
        }
        return new FeeDecision(new Account(a.availableMicros() - feeMicros, a.granted()), true, null);
    }

    public static Decision decide(Account account, JobRequested job, long starterGrantMicros) {
        Account a = account == null ? Account.NEW : account;
        long grant = 0;
        if (!a.granted()) {
            try {
                a = new Account(Math.addExact(a.availableMicros(), starterGrantMicros), true);
                grant = starterGrantMicros;
            } catch (ArithmeticException e) {
                return new Decision(a, 0, false, 0, "starter grant overflows the available balance");
            }
        }
        long need;
        try {
            need = Pricing.maxCost(job.getSpec(), Pricing.Rates.ceilings(job.getRequirements()),
                    job.getMaxTotalResults());
        } catch (ArithmeticException e) {
            return new Decision(a, grant, false, 0, "maximum cost overflows");
        }
        if (need < 0) {
            return new Decision(a, grant, false, 0, "negative maximum cost");
        }
        if (a.availableMicros() < need) {
            return new Decision(a, grant, false, 0,
                    "insufficient credits: available " + a.availableMicros() + ", needs " + need);
        }
        return new Decision(new Account(a.availableMicros() - need, true), grant, true, need, null);
    }
}
