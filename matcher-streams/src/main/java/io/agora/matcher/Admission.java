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

    private Admission() {
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
