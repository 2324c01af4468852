package io.agora.market;

import io.agora.events.BenchmarkProof;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProofOfHardwareTest {
    private static final String SEED = ProofOfHardware.seed("worker-x", 7);
    /** 64 blocks: 31 checkpoints every 2 blocks, whatever the machine's speed. */
    private static final ProofOfHardware.Proof PROOF = ProofOfHardware.ofBlocks(SEED, 64);

    @Test
    void anHonestProofChecksWhicheverSegmentIsSampledAndTheWholeChainVerifies() {
        assertTrue(PROOF.score() > 0);
        assertTrue(ProofOfHardware.run(SEED, 20).score() > 0);
        assertTrue(PROOF.checkpoints().size() <= ProofOfHardware.CHECKPOINTS);
        for (int sample = 0; sample <= PROOF.checkpoints().size(); sample++) {
            assertNull(ProofOfHardware.check(PROOF.score(), PROOF.toEvent(), SEED, sample), "segment " + sample);
        }
        assertTrue(ProofOfHardware.verify(SEED, PROOF.steps(), PROOF.proofHash()));
        assertTrue(!ProofOfHardware.verify(SEED, PROOF.steps() + 1, PROOF.proofHash()));
    }

    @Test
    void aScoreAboveWhatTheProofShowsIsRefused() {
        String why = ProofOfHardware.check(PROOF.score() * 10, PROOF.toEvent(), SEED, 0);
        assertNotNull(why);
        assertTrue(why.startsWith("score "), why);
    }

    @Test
    void aProofOfAnotherChallengeIsRefused() {
        assertEquals("proof answers seed 'worker-x:7', not the challenge 'worker-x:8'",
                ProofOfHardware.check(PROOF.score(), PROOF.toEvent(), ProofOfHardware.seed("worker-x", 8), 0));
        assertEquals("no proof", ProofOfHardware.check(PROOF.score(), null, SEED, 0));
    }

    @Test
    void aFakedSegmentIsCaughtWhenItIsSampled() {
        BenchmarkProof p = PROOF.toEvent();
        List<String> checkpoints = new ArrayList<>(p.getCheckpoints());
        int faked = checkpoints.size() / 2;
        checkpoints.set(faked, "00".repeat(32)); // steps skipped: this checkpoint was made up
        BenchmarkProof forged = BenchmarkProof.newBuilder(p).setCheckpoints(checkpoints).build();
        assertNotNull(ProofOfHardware.check(PROOF.score(), forged, SEED, faked), "the segment ending at it");
        assertNotNull(ProofOfHardware.check(PROOF.score(), forged, SEED, faked + 1), "the segment starting from it");
        assertEquals(31, checkpoints.size());
        assertNull(ProofOfHardware.check(PROOF.score(), forged, SEED, faked + 2),
                "a segment away from it cannot tell: the check is a sample");
    }

    @Test
    void aProofWhoseSegmentWouldCostTooMuchToCheckIsRefusedUnchecked() {
        BenchmarkProof huge = BenchmarkProof.newBuilder(PROOF.toEvent()).setSteps(Long.MAX_VALUE / 2)
                .setStride(Long.MAX_VALUE / 4).setCheckpoints(List.of("ab")).build();
        assertTrue(ProofOfHardware.check(1, huge, SEED, 0).startsWith("malformed proof"));
    }
}
