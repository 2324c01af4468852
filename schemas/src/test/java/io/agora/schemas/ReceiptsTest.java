package io.agora.schemas;

import io.agora.events.DisputeFeePayout;
import io.agora.events.DisputeReceipt;
import io.agora.events.Outcome;
import io.agora.events.Receipt;
import io.agora.events.ReceiptPayout;
import io.agora.events.SettlementReceipt;
import io.agora.events.SlashShare;
import io.agora.events.SlashTaken;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A receipt signed by the market key verifies with its public key, and only untouched. */
class ReceiptsTest {
    private final Identity market = Identity.generate();

    private Receipt receipt() {
        return Receipts.sign(Receipt.newBuilder().setJobId("j").setClientId("c").setOutcome(Outcome.COMPLETED)
                .setAgreedHash("ab".repeat(32)).setPayouts(List.of(new ReceiptPayout("w1", 300L), new ReceiptPayout("w2", 200L)))
                .setRefundMicros(500).setEscrowMicros(1_000).setIssuedAt(Instant.ofEpochMilli(5_000))
                .setMarketKey("").setSignature(ByteBuffer.allocate(0)).build(), market);
    }

    @Test
    void aSignedReceiptVerifiesAndSurvivesItsStoredAndJsonForms() {
        Receipt r = receipt();
        assertThat(Receipts.problems(r, market.workerId())).isEmpty();
        assertThat(Receipts.problems(Receipts.fromBytes(Receipts.toBytes(r)), market.workerId())).isEmpty();
        assertThat(Receipts.problems(Receipts.fromMap(Receipts.toMap(r)), market.workerId())).isEmpty();
    }

    @Test
    void aPayoutRaisedByOneFailsVerification() {
        Receipt r = receipt();
        r.getPayouts().get(0).setMicros(301L);
        r.setRefundMicros(499); // still balanced: only the signature gives it away
        assertThat(Receipts.problems(r, market.workerId())).containsExactly("bad signature: the receipt is not the one the market signed");
    }

    @Test
    void anotherKeyOrAnUnbalancedReceiptIsRefused() {
        Receipt r = receipt();
        assertThat(Receipts.problems(r, Identity.generate().workerId())).singleElement().asString().startsWith("signed by");
        Receipt unbalanced = Receipts.sign(Receipt.newBuilder(r).setRefundMicros(499).build(), market);
        assertThat(Receipts.problems(unbalanced, market.workerId()))
                .containsExactly("payouts 500 + refund 499 are not the escrow 1000");
    }

    private DisputeReceipt upheld() {
        return Receipts.sign(DisputeReceipt.newBuilder().setJobId("j").setClientId("c").setOverturned(false)
                .setDecidedHash("ab".repeat(32)).setFeeMicros(1_000)
                .setFeePayouts(List.of(new DisputeFeePayout("w3", 500L), new DisputeFeePayout("w4", 500L)))
                .setFeeRefundMicros(0).setSlashed(List.of()).setHonestWorkers(List.of()).setIssuedAt(Instant.ofEpochMilli(9_000))
                .setMarketKey("").setSignature(ByteBuffer.allocate(0)).build(), market);
    }

    @Test
    void aSignedDisputeReceiptSurvivesItsStoredAndJsonFormsAndVerifiesOnlyUntouchedAndBalanced() {
        DisputeReceipt r = upheld();
        assertThat(Receipts.problems(r, market.workerId())).isEmpty();
        assertThat(Receipts.problems(Receipts.disputeFromBytes(Receipts.toBytes(r)), market.workerId())).isEmpty();
        assertThat(Receipts.problems(Receipts.disputeFromMap(Receipts.toMap(r)), market.workerId())).isEmpty();
        assertThat(Receipts.problems(r, Identity.generate().workerId())).singleElement().asString().startsWith("signed by");
        DisputeReceipt moved = DisputeReceipt.newBuilder(r).build();
        moved.getFeePayouts().get(0).setWorkerId("w9");
        assertThat(Receipts.problems(moved, market.workerId()))
                .containsExactly("bad signature: the dispute receipt is not the one the market signed");
        DisputeReceipt unbalanced = Receipts.sign(DisputeReceipt.newBuilder(r).setFeeRefundMicros(1).build(), market);
        assertThat(Receipts.problems(unbalanced, market.workerId()))
                .containsExactly("fee payouts 1000 + fee refund 1 are not the fee 1000");
    }

    private SettlementReceipt settled() {
        return Receipts.sign(SettlementReceipt.newBuilder().setJobId("j").setClientId("c").setSlashes(List.of(
                        new SlashTaken("w1", 300L, 1_000L, 400L, List.of(new SlashShare("w3", 200L), new SlashShare("w4", 200L)), 200L),
                        new SlashTaken("w2", 0L, 0L, 0L, List.of(), 0L)))
                .setIssuedAt(Instant.ofEpochMilli(9_500)).setMarketKey("").setSignature(ByteBuffer.allocate(0)).build(), market);
    }

    @Test
    void aSignedSettlementReceiptSurvivesItsStoredAndJsonFormsAndVerifiesOnlyUntouchedAndBalanced() {
        SettlementReceipt r = settled();
        assertThat(Receipts.problems(r, market.workerId())).isEmpty();
        assertThat(Receipts.settlementFromBytes(Receipts.toBytes(r))).isEqualTo(r);
        assertThat(Receipts.settlementFromMap(Receipts.toMap(r))).isEqualTo(r);
        assertThat(Receipts.problems(r, Identity.generate().workerId())).singleElement().asString().startsWith("signed by");
        SettlementReceipt lowered = SettlementReceipt.newBuilder(r).build();
        lowered.getSlashes().get(0).setSlashedMicros(900L);
        lowered.getSlashes().get(0).setBurnedMicros(100L); // still balanced: only the signature gives it away
        assertThat(Receipts.problems(lowered, market.workerId()))
                .containsExactly("bad signature: the settlement receipt is not the one the market signed");
        SettlementReceipt unbalanced = SettlementReceipt.newBuilder(r).build();
        unbalanced.getSlashes().get(0).setBurnedMicros(201L);
        unbalanced.getSlashes().get(1).getHonestShares().add(new SlashShare("w3", 0L));
        assertThat(Receipts.problems(Receipts.sign(unbalanced, market), market.workerId())).containsExactly(
                "slash of w1: client share + honest shares + burn 1001 are not the 1000 slashed",
                "slash of w2: share 0 to w3 is not positive");
        SettlementReceipt twice = SettlementReceipt.newBuilder(r).setSlashes(List.of(r.getSlashes().get(1), r.getSlashes().get(1))).build();
        assertThat(Receipts.problems(Receipts.sign(twice, market), market.workerId())).containsExactly("slash of w2 named twice");
    }
}
