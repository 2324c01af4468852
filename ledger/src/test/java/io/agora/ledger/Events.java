package io.agora.ledger;

import io.agora.events.EntryKind;
import io.agora.events.JobEvent;
import io.agora.events.JobEventType;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.events.Posting;
import io.agora.events.ReputationChanged;
import io.agora.market.Accounts;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** Market events as the matcher and verifier would publish them. */
final class Events {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private Events() {
    }

    static String id() {
        return UUID.randomUUID().toString();
    }

    static LedgerEntry entry(String txId, String clientId, EntryKind kind, String jobId, Posting... postings) {
        return LedgerEntry.newBuilder().setEventId(id()).setTransactionId(txId).setClientId(clientId)
                .setKind(kind).setJobId(jobId).setMemo("").setPostings(List.of(postings)).setTimestamp(T0).build();
    }

    static Posting p(String account, long micros) {
        return Posting.newBuilder().setAccountId(account).setAmountMicros(micros).build();
    }

    static LedgerEntry grant(String client, long micros) {
        return entry("grant:" + client, client, EntryKind.STARTER_GRANT, null,
                p(Accounts.MINT_GRANTS, -micros), p(Accounts.client(client), micros));
    }

    static LedgerEntry hold(String client, String job, long micros) {
        return entry("hold:" + job, client, EntryKind.ESCROW_HOLD, job,
                p(Accounts.client(client), -micros), p(Accounts.escrow(job), micros));
    }

    static LedgerEntry payout(String client, String job, String worker, long micros) {
        return entry("payout:" + job + ":" + worker, client, EntryKind.PAYOUT, job,
                p(Accounts.escrow(job), -micros), p(Accounts.worker(worker), micros));
    }

    static LedgerEntry refund(String client, String job, long micros) {
        return entry("refund:" + job, client, EntryKind.REFUND, job,
                p(Accounts.escrow(job), -micros), p(Accounts.client(client), micros));
    }

    static JobEvent jobEvent(String job, String client, JobEventType type, long atMillis) {
        return JobEvent.newBuilder().setEventId(id()).setJobId(job).setClientId(client).setType(type)
                .setPool("public").setEscrowMicros(type == JobEventType.ACCEPTED ? 1_000 : 0)
                .setTimestamp(T0.plusMillis(atMillis)).build();
    }

    static JobVerdict verdict(String job, String client, Outcome outcome, long cost, long refund) {
        return JobVerdict.newBuilder().setEventId(id()).setJobId(job).setClientId(client).setOutcome(outcome)
                .setConsensusHash("abc").setOutput("hello").setExitCode(0).setAgreeing(List.of("w1", "w2"))
                .setDissenting(List.of()).setCostMicros(cost).setRefundMicros(refund)
                .setSubmittedAt(T0).setDecidedAt(T0.plusSeconds(10)).build();
    }

    static ReputationChanged reputation(String worker, int delta) {
        return ReputationChanged.newBuilder().setEventId(id()).setWorkerId(worker).setDelta(delta)
                .setReason("agree").setTimestamp(T0).build();
    }
}
