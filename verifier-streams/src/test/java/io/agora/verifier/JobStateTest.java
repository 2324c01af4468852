package io.agora.verifier;

import io.agora.schemas.AgoraConfig;
import io.agora.events.JobSpec;
import io.agora.events.JobTerms;
import io.agora.events.Outcome;
import io.agora.events.Strategy;
import io.agora.events.TaskAssigned;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JobStateTest {

    @Test
    void survivesTheStore() {
        Instant t = Instant.parse("2030-01-01T00:00:00Z");
        JobState s = new JobState();
        s.first = TaskAssigned.newBuilder().setEventId("e").setTaskId("j/0/0").setJobId("j").setWorkerId("w")
                .setReplica(0).setAttempt(0)
                .setSpec(JobSpec.newBuilder().setImage("i").setCommand(List.of("c")).setTimeoutMs(1000).build())
                .setTerms(JobTerms.newBuilder().setClientId("c").setPool("p").setRedundancy(3).setQuorum(2)
                        .setStrategy(Strategy.K_OF_N).setMaxTotalResults(5).setMaxPricePerCpuSecondMicros(7)
                        .setEscrowMicros(35).setSubmittedAt(t).setDeadline(t).build())
                .setPricePerCpuSecondMicros(5).setLeaseDeadline(t).setScore(1).setExplain("x").setAssignedAt(t).build();
        s.settled = true;
        s.outcome = Outcome.COMPLETED;
        s.consensusHash = "abc";
        s.decidedAt = 42;
        s.counted.addAll(List.of("j/0/0", "j/1/0"));
        s.receivedAt.put("j/0/0", 1_000L);
        s.failedReplicas.add(2);
        s.extraRequested = 1;
        s.agreeing.add("w");
        s.dissenting.add("v");
        s.disputeFrom = 4;
        s.disputeCount = 2;

        JobState back = JobState.serde().deserializer().deserialize("t", JobState.serde().serializer().serialize("t", s));
        assertThat(back.first).isEqualTo(s.first);
        assertThat(back.settled).isTrue();
        assertThat(back.outcome).isEqualTo(Outcome.COMPLETED);
        assertThat(back.consensusHash).isEqualTo("abc");
        assertThat(back.decidedAt).isEqualTo(42);
        assertThat(back.counted).containsExactly("j/0/0", "j/1/0");
        assertThat(back.receivedAt).containsExactlyEntriesOf(Map.of("j/0/0", 1_000L));
        assertThat(back.failedReplicas).containsExactly(2);
        assertThat(back.agreeing).containsExactly("w");
        assertThat(back.dissenting).containsExactly("v");
        assertThat(back.slots()).isEqualTo(4);
        assertThat(back.isDisputeReplica(5)).isTrue();
        assertThat(back.isDisputeReplica(6)).isFalse();
    }

    @Test
    void aVersion1RecordReadsWithNoArrivalTimes() {
        JobState s = new JobState();
        s.cancelSeenAt = 9;
        s.counted.add("j/0/0");
        s.receivedAt.put("j/0/0", 5L);
        byte[] v2 = s.toBytes();
        byte[] v1 = java.util.Arrays.copyOf(v2, v2.length - 8); // version 2 appends one long per counted result
        v1[0] = 1;
        JobState back = JobState.fromBytes(v1);
        assertThat(back.cancelSeenAt).isEqualTo(9);
        assertThat(back.counted).containsExactly("j/0/0");
        assertThat(back.receivedAt).as("unknown: settlement then caps at the verdict's time").isEmpty();
    }

    @Test
    void aPendingCancelHasNoTask() {
        JobState s = new JobState();
        s.cancelRequested = true;
        s.cancelSeenAt = 9;
        JobState back = JobState.fromBytes(s.toBytes());
        assertThat(back.first).isNull();
        assertThat(back.cancelRequested).isTrue();
        assertThat(back.cancelSeenAt).isEqualTo(9);
    }

    @Test
    void configReadsItsKeys() {
        VerifierConfig c = VerifierConfig.from(AgoraConfig.of(Map.of("agora.verifier.rep.agree", "7",
                "agora.verifier.dispute.window.ms", "1000", "agora.verifier.weighted.threshold", "0.66")));
        assertThat(c.repAgree()).isEqualTo(7);
        assertThat(c.repDissent()).isEqualTo(-10);
        assertThat(c.repFailed()).isEqualTo(-5);
        assertThat(c.disputeWindow()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.weightedThreshold()).isEqualTo(0.66);
        assertThat(c.punctuateInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThatThrownBy(() -> VerifierConfig.from(AgoraConfig.of(Map.of("agora.verifier.weighted.threshold", "1.5"))))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
