package io.agora.verifier;

import io.agora.events.EntryKind;
import io.agora.events.LedgerEntry;
import io.agora.events.Outcome;
import io.agora.events.Posting;
import io.agora.events.Receipt;
import io.agora.events.ReceiptPayout;
import io.agora.events.TaskAssigned;
import io.agora.events.TaskResult;
import io.agora.market.Accounts;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SettlementTest {
    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    @Test
    void thePaidDurationIsTheReportedOneCappedByTheOneTheMarketObserved() {
        TaskAssigned task = new TaskAssigned();
        task.setAssignedAt(T0);
        TaskResult claims9s = new TaskResult();
        claims9s.setDurationMs(9_000);
        long t0 = T0.toEpochMilli();
        assertThat(Settlement.paidDurationMs(task, claims9s, t0 + 2_000)).as("answered 2 s after assignment").isEqualTo(2_000);
        assertThat(Settlement.paidDurationMs(task, claims9s, t0 + 60_000)).as("its own report, when shorter").isEqualTo(9_000);
        assertThat(Settlement.paidDurationMs(task, claims9s, t0 - 5_000)).as("clocks apart: never negative").isZero();
        claims9s.setDurationMs(-1);
        assertThat(Settlement.paidDurationMs(task, claims9s, t0 + 2_000)).isZero();
    }

    @Test
    void payoutsPlusRefundEqualTheEscrow() {
        var plan = Settlement.completed(10_000, List.of(new Settlement.Share("a", 500), new Settlement.Share("b", 700)));
        assertThat(plan.costMicros()).isEqualTo(1_200);
        assertThat(plan.refundMicros()).isEqualTo(8_800);
        assertThat(plan.costMicros() + plan.refundMicros()).isEqualTo(10_000);
    }

    @Test
    void payoutsAreCappedByWhatIsLeft() {
        var plan = Settlement.completed(1_000, List.of(new Settlement.Share("a", 700), new Settlement.Share("b", 700),
                new Settlement.Share("c", 700)));
        assertThat(plan.payouts()).containsExactly(new Settlement.Share("a", 700), new Settlement.Share("b", 300),
                new Settlement.Share("c", 0));
        assertThat(plan.refundMicros()).isZero();
    }

    @Test
    void theCostPartsAreWhatEachPayoutPaidForGpuThenMemoryAndTheRestIsCpu() {
        var plan = Settlement.completed(1_000, List.of(new Settlement.Share("a", 700), new Settlement.Share("b", 700),
                new Settlement.Share("c", 700)));
        var parts = java.util.Map.of(
                "a", new io.agora.market.Pricing.Breakdown(100, 400, 200),
                "b", new io.agora.market.Pricing.Breakdown(100, 250, 350), // capped at 300: 250 GPU, 50 memory
                "c", new io.agora.market.Pricing.Breakdown(100, 400, 200)); // paid nothing
        io.agora.market.Pricing.Breakdown paid = Settlement.costParts(plan, parts);
        assertThat(paid).isEqualTo(new io.agora.market.Pricing.Breakdown(100, 400 + 250, 200 + 50));
        assertThat(paid.totalMicros()).isEqualTo(plan.costMicros());
        // a payout raised to the per-job minimum: the raise is cpu; a worker without parts is all cpu
        var raised = Settlement.completed(5_000, List.of(new Settlement.Share("a", 2_000), new Settlement.Share("d", 300)));
        assertThat(Settlement.costParts(raised, parts)).isEqualTo(new io.agora.market.Pricing.Breakdown(1_400 + 300, 400, 200));
    }

    @Test
    void everyOtherOutcomeRefundsEverything() {
        var plan = Settlement.refundAll(4_200);
        assertThat(plan.payouts()).isEmpty();
        assertThat(plan.refundMicros()).isEqualTo(4_200);
    }

    @Test
    void entriesAreBalancedAndEmptyTheEscrow() {
        var plan = Settlement.completed(10_000, List.of(new Settlement.Share("a", 500), new Settlement.Share("b", 0)));
        List<LedgerEntry> entries = Settlement.entries("j1", "c1", plan, 1L);
        assertThat(entries).extracting(LedgerEntry::getTransactionId).containsExactly("payout:j1:a", "refund:j1");
        assertThat(entries).extracting(LedgerEntry::getKind).containsExactly(EntryKind.PAYOUT, EntryKind.REFUND);
        for (LedgerEntry e : entries) {
            assertThat(e.getPostings().stream().mapToLong(Posting::getAmountMicros).sum()).isZero();
        }
        long escrowMoved = entries.stream().flatMap(e -> e.getPostings().stream())
                .filter(p -> p.getAccountId().equals(Accounts.escrow("j1"))).mapToLong(Posting::getAmountMicros).sum();
        assertThat(escrowMoved).isEqualTo(-10_000);
        assertThat(entries.get(1).getPostings()).contains(new Posting(Accounts.client("c1"), 9_500L));
    }

    @Test
    void nothingToRefundPostsNoRefund() {
        var plan = Settlement.completed(500, List.of(new Settlement.Share("a", 500)));
        assertThat(Settlement.entries("j", "c", plan, 1L)).extracting(LedgerEntry::getTransactionId).containsExactly("payout:j:a");
    }

    @Test
    void theReceiptListsExactlyThePostedPayoutsAndRefundAndTheyMakeTheEscrow() {
        // the escrow runs out: b is capped, c is owed nothing more (a zero share posts nothing)
        var plan = Settlement.completed(1_000, List.of(new Settlement.Share("a", 600), new Settlement.Share("b", 700),
                new Settlement.Share("c", 50)));
        List<LedgerEntry> entries = Settlement.entries("j", "c1", plan, 5);
        Receipt r = Settlement.receipt("j", "c1", Outcome.COMPLETED, "h", 1_000, plan, 5);

        assertThat(r.getPayouts()).extracting(ReceiptPayout::getWorkerId).containsExactly("a", "b");
        assertThat(r.getPayouts().stream().mapToLong(ReceiptPayout::getMicros).sum() + r.getRefundMicros())
                .isEqualTo(r.getEscrowMicros()).isEqualTo(1_000);
        List<LedgerEntry> payouts = entries.stream().filter(e -> e.getKind() == EntryKind.PAYOUT).toList();
        assertThat(payouts).hasSameSizeAs(r.getPayouts());
        for (ReceiptPayout p : r.getPayouts()) {
            assertThat(payouts.stream().flatMap(e -> e.getPostings().stream())
                    .filter(x -> x.getAccountId().equals(Accounts.worker(p.getWorkerId())))
                    .mapToLong(Posting::getAmountMicros).sum()).as(p.getWorkerId()).isEqualTo(p.getMicros());
        }
        assertThat(entries.stream().filter(e -> e.getKind() == EntryKind.REFUND)).isEmpty();
        assertThat(r.getRefundMicros()).isZero();
        assertThat(r.getIssuedAt()).isEqualTo(Instant.ofEpochMilli(5));

        Receipt refunded = Settlement.receipt("j", "c1", Outcome.EXPIRED, null, 1_000, Settlement.refundAll(1_000), 5);
        assertThat(refunded.getPayouts()).isEmpty();
        assertThat(refunded.getRefundMicros()).isEqualTo(1_000);
    }
}
