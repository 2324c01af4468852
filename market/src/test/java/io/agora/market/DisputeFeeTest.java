package io.agora.market;

import io.agora.events.EntryKind;
import io.agora.events.LedgerEntry;
import io.agora.events.Posting;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** A dispute's fee: held from the client, then paid to the workers or refunded, each posting balanced and named once. */
class DisputeFeeTest {
    private static final long FEE = MarketRules.DISPUTE_FEE_MICROS;

    @Test
    void heldThenPaidInEqualSharesTheRemainderToTheFirstWorker() {
        LedgerEntry hold = Postings.disputeFee("job-1", "kim", FEE, 1_000);
        LedgerEntry paid = Postings.disputeFeePaid("job-1", "kim", List.of("w1", "w2", "w3"), FEE, 2_000);
        assertThat(hold.getTransactionId()).isEqualTo("dispute-fee:job-1");
        assertThat(paid.getTransactionId()).isEqualTo("dispute-fee-paid:job-1");
        assertThat(List.of(hold, paid)).allSatisfy(e -> {
            assertThat(e.getKind()).isEqualTo(EntryKind.DISPUTE_FEE);
            assertThat(e.getClientId()).isEqualTo("kim");
            assertThat(e.getJobId()).isEqualTo("job-1");
            assertThat(e.getEventId()).isEqualTo(Postings.eventId(e.getTransactionId()));
            assertThat(e.getPostings().stream().mapToLong(Posting::getAmountMicros).sum()).isZero();
        });
        Map<String, Long> net = net(hold, paid);
        assertThat(net).containsEntry(Accounts.client("kim"), -FEE).containsEntry(Accounts.disputeEscrow("job-1"), 0L)
                .containsEntry(Accounts.worker("w1"), 33_334L).containsEntry(Accounts.worker("w2"), 33_333L)
                .containsEntry(Accounts.worker("w3"), 33_333L);
        assertThat(Postings.disputeFeePaid("job-1", "kim", List.of("w1", "w2", "w3"), FEE, 9_999))
                .as("a retry is the same event").extracting(LedgerEntry::getEventId).isEqualTo(paid.getEventId());
    }

    @Test
    void heldThenRefundedLeavesTheClientWhole() {
        Map<String, Long> net = net(Postings.disputeFee("job-1", "kim", FEE, 1_000),
                Postings.disputeFeeRefund("job-1", "kim", FEE, 2_000));
        assertThat(net.values()).containsOnly(0L);
        assertThat(Accounts.disputeEscrow("job-1")).isNotEqualTo(Accounts.escrow("job-1"))
                .as("no job id holds '|'").isNotEqualTo(Accounts.escrow("job-1|dispute".replace("|", ":")));
    }

    private static Map<String, Long> net(LedgerEntry... entries) {
        return java.util.Arrays.stream(entries).flatMap(e -> e.getPostings().stream())
                .collect(Collectors.groupingBy(Posting::getAccountId, Collectors.summingLong(Posting::getAmountMicros)));
    }
}
