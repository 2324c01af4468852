package io.agora.cli;

import io.agora.events.ResultStatus;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.schemas.Signatures;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Re-verifies every task result the way the verifier must have: the task id is
 * {@code jobId/replica/attempt}, the task was assigned to the result's worker, and the
 * signature is valid for that worker ({@link Signatures#verify}). Invalid results are expected
 * to have been refused (dead-lettered) by the verifier; the violation is an invalid result whose
 * worker was nevertheless counted in the job's verdict as agreeing, with no valid result of its
 * own backing that vote. Every agreeing worker of a COMPLETED verdict without any valid backing
 * result is reported too. Plain class: no Kafka, no database.
 */
public final class SignatureAudit {
    /** Why a result is invalid. */
    public enum Problem { MALFORMED_TASK_ID, UNKNOWN_TASK, NOT_ASSIGNED, BAD_SIGNATURE }

    /** Detail of an UNKNOWN_TASK result whose signature is valid for the worker it names. */
    static final String SIGNED_BY_CLAIMED_WORKER = "no TaskAssigned read (signature valid for the claimed worker)";

    /** A result that would not have counted, and why. */
    public record Invalid(String taskId, String jobId, String workerId, String eventId, Problem problem, String detail) {
        @Override
        public String toString() {
            return problem + " task " + taskId + " worker " + workerId + " (event " + eventId + ")"
                    + (detail == null ? "" : ": " + detail);
        }
    }

    /** A verdict as stored in the live {@code verdicts} table: who was counted as agreeing. */
    public record VerdictView(String jobId, String outcome, String consensusHash, List<String> agreeing) {
    }

    /** The outcome of the re-verification. */
    public record Report(int results, int valid, int handedBack, List<Invalid> unverifiable, List<Invalid> invalid,
                         List<String> violations, List<String> unbacked) {
        /** True when no invalid result and no unbacked worker was counted in a verdict. */
        public boolean clean() {
            return violations.isEmpty() && unbacked.isEmpty();
        }

        public void print(PrintWriter out) {
            out.printf("signatures: %d results, %d valid, %d invalid, %d handed back (not votes), %d unverifiable%n",
                    results, valid, invalid.size(), handedBack, unverifiable.size());
            invalid.forEach(i -> out.println("  invalid: " + i));
            if (!unverifiable.isEmpty()) {
                out.println("  (unverifiable: signed by the worker they name, but their TaskAssigned was not read,"
                        + " e.g. past the task topic's retention; first: " + unverifiable.get(0) + ")");
            }
            if (violations.isEmpty()) {
                out.println("signatures: no invalid result was counted in a verdict");
            } else {
                out.println("signatures: " + violations.size() + " invalid result(s) counted in a verdict's agreeing list");
                violations.forEach(v -> out.println("  VIOLATION: " + v));
            }
            unbacked.forEach(u -> out.println("  UNBACKED: " + u));
        }
    }

    private SignatureAudit() {
    }

    /** Classifies one result against the tasks by id; null when it is valid. */
    static Invalid check(TaskResult r, Map<String, TaskAssigned> tasksById) {
        String expected = r.getJobId() + "/" + r.getReplica() + "/" + r.getAttempt();
        if (!expected.equals(r.getTaskId())) {
            return invalid(r, Problem.MALFORMED_TASK_ID, "expected " + expected);
        }
        TaskAssigned task = tasksById.get(r.getTaskId());
        if (task == null) {
            return invalid(r, Problem.UNKNOWN_TASK, Signatures.verify(r, r.getWorkerId())
                    ? SIGNED_BY_CLAIMED_WORKER : "no TaskAssigned read, bad signature");
        }
        if (!task.getWorkerId().equals(r.getWorkerId())) {
            return invalid(r, Problem.NOT_ASSIGNED, "assigned to " + task.getWorkerId());
        }
        if (!Signatures.verify(r, task.getWorkerId())) {
            return invalid(r, Problem.BAD_SIGNATURE, null);
        }
        return null;
    }

    private static Invalid invalid(TaskResult r, Problem p, String detail) {
        return new Invalid(r.getTaskId(), r.getJobId(), r.getWorkerId(), r.getEventId(), p, detail);
    }

    /**
     * @param tasks    every TaskAssigned read (to know which worker each task id went to)
     * @param results  every TaskResult read
     * @param verdicts the live verdicts, by job id
     */
    public static Report run(Collection<TaskAssigned> tasks, Collection<TaskResult> results, Map<String, VerdictView> verdicts) {
        Map<String, TaskAssigned> byId = new HashMap<>();
        tasks.forEach(t -> byId.putIfAbsent(t.getTaskId(), t));
        int valid = 0;
        int handedBack = 0;
        List<Invalid> invalid = new ArrayList<>();
        List<Invalid> unverifiable = new ArrayList<>();
        // jobId|workerId -> output hashes of that worker's valid votes on the job
        Map<String, Set<String>> validVotes = new HashMap<>();
        for (TaskResult r : results) {
            if (r.getStatus() == ResultStatus.HANDED_BACK) {
                // Not a vote: the verifier ignores it and the matcher routes the task again. It is
                // signed by the worker that received the task, which need not be the assignee.
                handedBack++;
                if (!Signatures.verify(r, r.getWorkerId())) {
                    invalid.add(invalid(r, Problem.BAD_SIGNATURE, "hand-back"));
                }
                continue;
            }
            Invalid problem = check(r, byId);
            boolean signedButUnassignable = problem != null && problem.problem() == Problem.UNKNOWN_TASK
                    && SIGNED_BY_CLAIMED_WORKER.equals(problem.detail());
            if (signedButUnassignable) {
                unverifiable.add(problem);
            }
            if (problem == null || signedButUnassignable) {
                valid += problem == null ? 1 : 0;
                if (r.getStatus() == ResultStatus.SUCCEEDED || r.getStatus() == ResultStatus.FAILED_EXIT) {
                    validVotes.computeIfAbsent(r.getJobId() + "|" + r.getWorkerId(), k -> new HashSet<>())
                            .add(r.getOutputSha256());
                }
            } else {
                invalid.add(problem);
            }
        }
        List<String> violations = new ArrayList<>();
        for (Invalid i : invalid) {
            VerdictView v = verdicts.get(i.jobId());
            if (v != null && v.agreeing().contains(i.workerId()) && !backed(validVotes, v, i.workerId())) {
                violations.add(i + " is counted as agreeing in the " + v.outcome() + " verdict of job " + i.jobId());
            }
        }
        Set<String> invalidVoters = new HashSet<>();
        invalid.forEach(i -> invalidVoters.add(i.jobId() + "|" + i.workerId()));
        List<String> unbacked = new ArrayList<>();
        for (VerdictView v : verdicts.values()) {
            for (String w : v.agreeing()) {
                if (!backed(validVotes, v, w) && !invalidVoters.contains(v.jobId() + "|" + w)) {
                    unbacked.add("job " + v.jobId() + " (" + v.outcome() + ") counts " + w
                            + " as agreeing but no valid result of that worker with the consensus hash was read");
                }
            }
        }
        unbacked.sort(null);
        return new Report(results.size(), valid, handedBack, List.copyOf(unverifiable), List.copyOf(invalid), List.copyOf(violations), List.copyOf(unbacked));
    }

    private static boolean backed(Map<String, Set<String>> validVotes, VerdictView v, String worker) {
        Set<String> hashes = validVotes.get(v.jobId() + "|" + worker);
        return hashes != null && (v.consensusHash() == null || hashes.contains(v.consensusHash()));
    }
}
