package io.agora.market;

/**
 * Account naming of the double-entry ledger. Money is micro-credits ({@code long}).
 * Credits enter the market only through the two mint accounts, whose balances are the
 * negative of everything granted or deposited, so the sum over all accounts is always zero
 * and the sum over client, escrow, worker and stake accounts equals grants plus deposits minus
 * what slashing burned (credited to {@link #MINT_SLASHED}).
 */
public final class Accounts {
    public static final String MINT_GRANTS = "mint:grants";
    public static final String MINT_DEPOSITS = "mint:deposits";
    /** Where the burned part of a slashed stake goes: it leaves circulation (the balance grows, never spent). */
    public static final String MINT_SLASHED = "mint:slashed";
    /** One credit, in micro-credits. */
    public static final long CREDIT = 1_000_000L;

    private Accounts() {
    }

    public static String client(String clientId) {
        return "client:" + clientId;
    }

    public static String worker(String workerId) {
        return "worker:" + workerId;
    }

    /** A worker's bonded stake: moved from {@code worker:<id>} by STAKE, back by UNSTAKE, taken by SLASH. */
    public static String stake(String workerId) {
        return "stake:" + workerId;
    }

    /** Each job holds its escrow in its own account, which must end at zero once the job is settled. */
    public static String escrow(String jobId) {
        return "escrow:" + jobId;
    }

    /**
     * The fee of a dispute of job {@code jobId}, held while the dispute runs; it ends at zero once
     * the dispute is decided ({@code |} never occurs in a job id, so it names no job's escrow).
     */
    public static String disputeEscrow(String jobId) {
        return "escrow:" + jobId + "|dispute";
    }

    public static boolean isMint(String accountId) {
        return accountId.startsWith("mint:");
    }
}
