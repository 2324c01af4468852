package io.agora.cli;

import io.agora.events.EntryKind;
import io.agora.events.JobRequested;
import io.agora.events.JobSpec;
import io.agora.events.JobTerms;
import io.agora.events.JobVerdict;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.events.Posting;
import io.agora.events.Requirements;
import io.agora.events.ResultStatus;
import io.agora.events.Strategy;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.market.Accounts;
import io.agora.schemas.Identity;
import io.agora.schemas.Signatures;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Market events as the apps would publish them, for tests. */
final class Market {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private Market() {
    }

    static String id() {
        return UUID.randomUUID().toString();
    }

    static JobSpec spec() {
        return JobSpec.newBuilder().setImage("agora/busybox:1").setCommand(List.of("echo", "hi")).setTimeoutMs(10_000).build();
    }

    static JobRequested request(String job, String client, String pool, Instant at) {
        return JobRequested.newBuilder().setEventId(id()).setJobId(job).setClientId(client).setSpec(spec())
                .setRequirements(Requirements.newBuilder().setPool(pool).setMaxPricePerCpuSecondMicros(100).build())
                .setRedundancy(3).setQuorum(2).setStrategy(Strategy.K_OF_N).setMaxTotalResults(5).setSubmittedAt(at).build();
    }

    static TaskAssigned task(String job, int replica, String worker, String pool, long price, Instant at) {
        JobTerms terms = JobTerms.newBuilder().setClientId("c1").setPool(pool).setRedundancy(3).setQuorum(2)
                .setStrategy(Strategy.K_OF_N).setMaxTotalResults(5).setMaxPricePerCpuSecondMicros(100)
                .setEscrowMicros(5_000_000).setSubmittedAt(at).setDeadline(at.plusSeconds(900)).build();
        return TaskAssigned.newBuilder().setEventId(id()).setTaskId(job + "/" + replica + "/0").setJobId(job)
                .setWorkerId(worker).setReplica(replica).setAttempt(0).setSpec(spec()).setTerms(terms)
                .setPricePerCpuSecondMicros(price).setLeaseDeadline(at.plusSeconds(60)).setScore(1.0).setExplain("")
                .setAssignedAt(at).build();
    }

    static TaskResult.Builder result(TaskAssigned task, String hash, Instant at) {
        return TaskResult.newBuilder().setEventId(id()).setTaskId(task.getTaskId()).setJobId(task.getJobId())
                .setWorkerId(task.getWorkerId()).setPool(task.getTerms().getPool()).setReplica(task.getReplica())
                .setAttempt(task.getAttempt()).setStatus(ResultStatus.SUCCEEDED).setExitCode(0).setOutputSha256(hash)
                .setStdout("hi\n").setOutputFiles(Map.of()).setDurationMs(100).setStartedAt(at.minusMillis(100))
                .setFinishedAt(at).setSeq(1).setSignature(ByteBuffer.allocate(0));
    }

    static TaskResult signed(TaskAssigned task, String hash, Instant at, Identity by) {
        return Signatures.sign(result(task, hash, at).setWorkerId(by.workerId()).build(), by.privateKey());
    }

    static JobVerdict verdict(String job, Outcome outcome, List<String> agreeing, List<String> dissenting,
                              Instant submitted, Instant decided) {
        return JobVerdict.newBuilder().setEventId(id()).setJobId(job).setClientId("c1").setOutcome(outcome)
                .setConsensusHash(outcome == Outcome.COMPLETED ? "h" : null).setAgreeing(agreeing).setDissenting(dissenting)
                .setCostMicros(0).setRefundMicros(0).setSubmittedAt(submitted).setDecidedAt(decided).build();
    }

    static LedgerEntry payout(String job, String worker, long micros, Instant at) {
        return LedgerEntry.newBuilder().setEventId(id()).setTransactionId("payout:" + job + ":" + worker).setClientId("c1")
                .setKind(EntryKind.PAYOUT).setJobId(job).setTimestamp(at)
                .setPostings(List.of(posting(Accounts.escrow(job), -micros), posting(Accounts.worker(worker), micros))).build();
    }

    static LedgerEntry entry(String txId, EntryKind kind, String job, Instant at, Posting... postings) {
        return LedgerEntry.newBuilder().setEventId(id()).setTransactionId(txId).setClientId("c1").setKind(kind)
                .setJobId(job).setTimestamp(at).setPostings(List.of(postings)).build();
    }

    static Posting posting(String account, long micros) {
        return Posting.newBuilder().setAccountId(account).setAmountMicros(micros).build();
    }
}
