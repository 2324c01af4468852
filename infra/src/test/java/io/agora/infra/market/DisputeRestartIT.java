package io.agora.infra.market;

import io.agora.events.EntryKind;
import io.agora.market.MarketRules;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A dispute across a verifier crash, on the real stack: the client disputes a completed job, the
 * verifier is killed with SIGKILL while the dispute's re-run is in progress and started again,
 * and the dispute settles once: its fee held and paid exactly once on {@code agora.ledger.entries},
 * the ledger balanced.
 */
class DisputeRestartIT {
    @Test
    void aDisputeWhoseVerifierIsKilledDuringTheReRunSettlesOnce() throws Exception {
        LiveMarket live = LiveMarket.get();
        String key = live.apiKey("dispute-client");
        MarketClient.Answer dep = live.client.deposit(Market.ADMIN_TOKEN, "dispute-client", 50_000_000);
        assertThat(dep.status()).as(dep.toString()).isEqualTo(202);
        Map<String, Object> extra = new HashMap<>(LiveMarket.honestOnly());
        extra.put("maxTotalResults", 4); // room for the two dispute replicas
        extra.put("deadlineMs", 600_000);
        String jobId = live.submit(key, LiveMarket.job("sleep 4; echo disputed", 2, 2, 30_000, extra));
        MarketClient.Answer job = live.awaitTerminal(key, jobId, Duration.ofMinutes(2));
        assertThat(job.text("status")).as(job.toString()).isEqualTo("COMPLETED");

        MarketClient.Answer d = live.client.send("POST", "/api/v1/jobs/" + jobId + "/dispute", key,
                "{\"reason\":\"check it again\"}", Map.of());
        assertThat(d.status()).as(d.toString()).isEqualTo(202);
        await("dispute replicas assigned").atMost(Duration.ofSeconds(90)).until(() ->
                live.scalar("select count(*) from agora.job_events where job_id = ? and type = 'ASSIGNED'", jobId) >= 4);
        live.market.service("verifier").kill(); // the re-run sleeps 4 s: it is still running
        live.market.service("verifier").start();

        await("dispute decided").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).until(() ->
                live.strings("select dispute from agora.jobs where job_id = ?", jobId).contains("upheld"));
        await("fee paid").atMost(Duration.ofSeconds(60)).until(() -> live.scalar(
                "select count(*) from agora.ledger_transactions where transaction_id = ?", "dispute-fee-paid:" + jobId) == 1);
        assertThat(live.strings("select transaction_id from agora.ledger_transactions where job_id = ? and kind = 'DISPUTE_FEE'"
                + " order by transaction_id", jobId)).containsExactly("dispute-fee-paid:" + jobId, "dispute-fee:" + jobId);
        assertThat(live.scalar("select coalesce(sum(balance_micros), 0) from agora.accounts where account_id = ?",
                "escrow:" + jobId + "|dispute")).as("the fee's account is empty").isZero();
        assertThat(live.scalar("select coalesce(sum(p.amount_micros), 0) from agora.ledger_postings p"
                + " join agora.ledger_transactions t using (transaction_id) where t.transaction_id = ? and p.account_id like 'worker:%'",
                "dispute-fee-paid:" + jobId)).isEqualTo(MarketRules.DISPUTE_FEE_MICROS);

        Map<String, Integer> onTopic = live.committedOnLedgerTopic(Set.of(EntryKind.DISPUTE_FEE));
        assertThat(onTopic).containsEntry("dispute-fee:" + jobId, 1).containsEntry("dispute-fee-paid:" + jobId, 1)
                .doesNotContainKey("dispute-fee-refund:" + jobId);
        assertThat(live.strings("select type from agora.job_events where job_id = ? and type = 'DISPUTED'", jobId))
                .as("opened, then decided once").hasSize(2);
        live.assertLedgerInvariants();
        List<String> refused = live.strings("select reason from agora.job_events where job_id = ? and reason like 'refused%'", jobId);
        assertThat(refused).isEmpty();
    }
}
