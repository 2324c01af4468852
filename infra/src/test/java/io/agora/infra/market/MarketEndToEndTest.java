package io.agora.infra.market;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One job travels the whole market on real infrastructure: HTTP submit, admission with a
 * starter grant and escrow, matching to three distinct live workers, three real Docker
 * containers, signed results, 2-of-3 consensus, settlement, and the PostgreSQL projection.
 */
class MarketEndToEndTest {
    private static LiveMarket live;

    @BeforeAll
    static void market() {
        live = LiveMarket.get();
    }

    @Test
    void aJobIsRunByThreeWorkersAgreedOnPaidAndRecorded() throws Exception {
        String key = live.apiKey("e2e-client");
        String jobId = live.submit(key, LiveMarket.job("echo hello from agora", 3, 2, 20_000));

        MarketClient.Answer job = live.awaitTerminal(key, jobId, Duration.ofMinutes(2));

        assertThat(job.text("status")).as(job.toString()).isEqualTo("COMPLETED");
        assertThat(job.text("output")).isEqualTo("hello from agora\n");
        assertThat(job.text("consensusHash")).hasSize(64);
        assertThat(job.body().get("agreeing").size()).isGreaterThanOrEqualTo(2);
        long cost = job.body().get("costMicros").asLong();
        assertThat(cost).isPositive();
        assertThat(cost + job.body().get("refundMicros").asLong()).isEqualTo(job.body().get("escrowMicros").asLong());

        // three distinct workers were assigned a replica
        List<String> assigned = live.strings(
                "select distinct worker_id from agora.job_events where job_id = ? and type = 'ASSIGNED'", jobId);
        assertThat(assigned).hasSizeGreaterThanOrEqualTo(3).doesNotHaveDuplicates();

        // the escrow was held before any task was assigned and is empty now
        assertThat(live.scalar("select balance_micros from agora.accounts where account_id = ?", "escrow:" + jobId)).isZero();

        // the client's balance is its starter grant minus the cost, and the API says the same
        long grant = live.scalar("select -sum(amount_micros) from agora.ledger_postings p join agora.ledger_transactions t "
                + "using (transaction_id) where t.transaction_id = 'grant:e2e-client' and p.account_id = 'mint:grants'");
        MarketClient.Answer account = live.client.account(key, "e2e-client");
        assertThat(account.status()).isEqualTo(200);
        assertThat(account.body().get("balanceMicros").asLong()).isEqualTo(grant - cost);
        assertThat(account.body().get("availableMicros").asLong()).isEqualTo(grant - cost);

        // every agreeing worker was paid exactly once, and the payouts add up to the cost
        assertThat(live.scalar("select count(*) from agora.ledger_transactions where job_id = ? and kind = 'PAYOUT'", jobId))
                .isEqualTo(job.body().get("agreeing").size());
        assertThat(live.scalar("select coalesce(sum(p.amount_micros),0) from agora.ledger_postings p join agora.ledger_transactions t "
                + "using (transaction_id) where t.job_id = ? and t.kind = 'PAYOUT' and p.account_id like 'worker:%'", jobId))
                .isEqualTo(cost);

        live.assertLedgerInvariants();
    }

    @Test
    void aMalformedSubmissionIsRefusedWithEveryProblemListed() {
        String key = live.apiKey("e2e-bad");
        MarketClient.Answer a = live.client.submit(key, "{\"command\":[],\"redundancy\":0,\"quorum\":5,\"timeoutMs\":-1}");
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.body().get("problems").findValuesAsText("field"))
                .contains("image", "command", "redundancy", "timeoutMs", "maxPricePerCpuSecondMicros");

        MarketClient.Answer notJson = live.client.submit(key, "{not json");
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(live.client.submit(null, LiveMarket.job("true", 1, 1, 5000)).status()).isEqualTo(401);
    }
}
