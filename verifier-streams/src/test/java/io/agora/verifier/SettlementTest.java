package io.agora.verifier;

import io.agora.events.EntryKind;
import io.agora.events.LedgerEntry;
import io.agora.events.Posting;
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
}
