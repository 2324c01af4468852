package io.agora.ledger;

import io.agora.events.SettlementReceipt;
import io.agora.events.SlashShare;
import io.agora.events.SlashTaken;
import io.agora.market.Accounts;
import io.agora.market.Postings;
import io.agora.market.Stake;
import io.agora.schemas.Identity;
import io.agora.schemas.Receipts;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The audit's check of a settlement receipt against the job's dispute receipt and its SLASH postings. */
class AuditReportTest {
    private final Identity market = Identity.generate();
    private final Stake.Account bonded = Stake.request(Stake.Account.NEW.credit(10_000), 10_000, 1, 0,
            java.time.Duration.ofMinutes(1)).account().credit(700);
    private final SlashTaken liar = Postings.taken("liar", Stake.slash(bonded, 700, List.of("h1", "h2")));
    private final SlashTaken broke = Postings.taken("broke", Stake.slash(Stake.Account.NEW, 700, List.of("h1", "h2")));

    private SettlementReceipt receipt(SlashTaken... slashes) {
        return Receipts.sign(SettlementReceipt.newBuilder().setJobId("j1").setClientId("c1").setSlashes(List.of(slashes))
                .setIssuedAt(Instant.ofEpochMilli(1_000)).setMarketKey("").setSignature(ByteBuffer.allocate(0)).build(), market);
    }

    /** The job's SLASH transactions as the gate posted {@code slashes}. */
    private static Map<String, Map<String, Long>> posted(SlashTaken... slashes) {
        Map<String, Map<String, Long>> out = new HashMap<>();
        for (SlashTaken t : slashes) {
            var e = Postings.slash("j1", "c1", t, 0);
            e.getPostings().forEach(p -> out.computeIfAbsent(e.getTransactionId(), k -> new HashMap<>())
                    .merge(p.getAccountId(), p.getAmountMicros(), Long::sum));
        }
        return out;
    }

    @Test
    void aReceiptWhoseAmountsAreTheSlashPostingsHolds() {
        assertThat(AuditReport.settlementProblems("j1", receipt(liar, broke), market.workerId(), List.of("liar", "broke"),
                posted(liar, broke))).isEmpty();
        assertThat(posted(broke)).as("a slash that took nothing posts nothing, and the receipt says 0").isEmpty();
    }

    @Test
    void aReceiptThatDisagreesWithTheLedgerOrTheDisputeReceiptIsAFinding() {
        Map<String, Map<String, Long>> ledger = posted(liar);
        ledger.get("slash:j1:liar").merge(Accounts.MINT_SLASHED, -1L, Long::sum);
        ledger.get("slash:j1:liar").merge(Accounts.client("c1"), 1L, Long::sum);
        ledger.put("slash:j1:other", Map.of(Accounts.stake("other"), -5L, Accounts.MINT_SLASHED, 5L));
        assertThat(AuditReport.settlementProblems("j1", receipt(liar, broke), market.workerId(), List.of("liar", "other"),
                ledger)).containsExactly(
                "it settles the slashes of [liar, broke] but the dispute receipt slashed [liar, other]",
                "the slash of liar took {client:c1=2700, mint:slashed=1000, stake:liar=-5000, worker:h1=1000, worker:h2=1000,"
                        + " worker:liar=-700} but slash:j1:liar posted {client:c1=2701, mint:slashed=999, stake:liar=-5000,"
                        + " worker:h1=1000, worker:h2=1000, worker:liar=-700}",
                "slash:j1:other is not on the receipt");
        assertThat(AuditReport.settlementProblems("j2", receipt(liar), Identity.generate().workerId(), null, posted(liar)))
                .anyMatch(p -> p.startsWith("signed by")).contains("it is for job j1",
                        "no dispute receipt of the job names the workers slashed");
    }

    @Test
    void theSettlementSaysExactlyWhatTheHonestWorkersGot() {
        SlashTaken lowered = SlashTaken.newBuilder(liar).setHonestShares(List.of(new SlashShare("h1", 1_000L))).build();
        assertThat(AuditReport.settlementProblems("j1", receipt(lowered), market.workerId(), List.of("liar"), posted(liar)))
                .anyMatch(p -> p.endsWith("are not the 5000 slashed")).anyMatch(p -> p.startsWith("the slash of liar took"));
    }
}
