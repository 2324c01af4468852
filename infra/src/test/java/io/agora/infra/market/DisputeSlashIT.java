package io.agora.infra.market;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.agora.events.EntryKind;
import io.agora.events.SettlementReceipt;
import io.agora.events.SlashShare;
import io.agora.events.SlashTaken;
import io.agora.ledger.AuditReport;
import io.agora.market.Postings;
import io.agora.schemas.Receipts;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A slashed liar on the real stack (issue 15): two lying identities of one worker process form a
 * job's whole quorum in pool {@value #POOL}, having bonded what an earlier job paid them; the client
 * disputes, both liars try to unbond while the dispute is open (a deregistration, then a
 * re-registration asking for no stake) and are refused, the verifier is killed (SIGKILL) and started
 * again while the dispute is open, then two honest identities joining the pool
 * re-run the job and contradict them. The liars are slashed by the documented split (market's
 * {@code Stake}: their payment back to the client, half their bond taken, 40 % of that to the
 * client, 40 % to the honest dispute workers, the rest burned to {@code mint:slashed}), lose
 * reputation, the dispute fee comes back, the job shows the overturned dispute through the API, each
 * transaction is committed once on {@code agora.ledger.entries} and the ledger balances; the settlement receipt the
 * API serves verifies with the market's public key and its amounts are the SLASH postings. Only once the
 * dispute is over does an unbond go through (UNSTAKE after the market's short test cool-down).
 */
class DisputeSlashIT {
    /** An open pool only this test's workers join, so no other test's job reaches the liars. */
    static final String POOL = "slash";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What each liar asks to keep bonded at first: more than it will have, so it bonds everything it earned. */
    static final long ASKED_STAKE = 1_000_000;
    /** The liars' per-job minimum: a simulated run takes no time, so this is what each job pays each of them. */
    static final long LIAR_JOB_PRICE = 20_000;

    @Test
    void aLyingQuorumIsSlashedByItsDisputeAndCannotUnbondUntilTheDisputeIsOver() throws Exception {
        LiveMarket live = LiveMarket.get();
        String client = "slash-client";
        String key = live.apiKey(client);
        MarketClient.Answer dep = live.client.deposit(Market.ADMIN_TOKEN, client, 50_000_000);
        assertThat(dep.status()).as(dep.toString()).isEqualTo(202);
        Map<String, String> liarEnv = Map.of("AGORA_WORKER_POOL", POOL, "AGORA_WORKER_IDENTITIES", "2",
                "AGORA_WORKER_STAKE_MICROS", Long.toString(ASKED_STAKE),
                "AGORA_WORKER_MIN_JOB_PRICE", Long.toString(LIAR_JOB_PRICE));
        try {
            live.market.startWorker("liars", "wrong", liarEnv);
            List<String> liars = awaitPool(live, 2);

            // 1. the liars earn: a job only they can take pays each its minimum, which is all they may bond
            String earn = live.submit(key, LiveMarket.job("echo earn", 2, 2, 30_000, inPool(Map.of())));
            assertThat(live.awaitTerminal(key, earn, Duration.ofMinutes(2)).text("status")).isEqualTo("COMPLETED");
            Map<String, Long> bond = new HashMap<>();
            for (String liar : liars) {
                await("payout of " + liar).atMost(Duration.ofSeconds(60)).until(() ->
                        live.scalar("select count(*) from agora.ledger_transactions where transaction_id = ?",
                                "payout:" + earn + ":" + liar) == 1);
                bond.put(liar, balance(live, "worker:" + liar));
                assertThat(bond.get(liar)).as("what the earning job paid " + liar).isPositive();
            }
            // 2. a worker bonds at registration: the liars register again, asking for more than they earned
            live.market.service("liars").stop();
            live.market.service("liars").start();
            for (String liar : liars) {
                await("bond of " + liar).atMost(Duration.ofMinutes(2)).until(() ->
                        balance(live, "stake:" + liar) == bond.get(liar) && balance(live, "worker:" + liar) == 0);
            }
            awaitPool(live, 2);

            // 3. the lie: the liars are the pool, so they are the quorum, and agree on a wrong output
            Map<String, Object> extra = new HashMap<>();
            extra.put("maxTotalResults", 4); // room for the two dispute replicas
            extra.put("deadlineMs", 600_000);
            String jobId = live.submit(key, LiveMarket.job("sleep 2; echo truth", 2, 2, 30_000, inPool(extra)));
            MarketClient.Answer lie = live.awaitTerminal(key, jobId, Duration.ofMinutes(2));
            assertThat(lie.text("status")).as(lie.toString()).isEqualTo("COMPLETED");
            assertThat(lie.text("output")).as("the liars' output").endsWith("!");
            List<String> agreeing = new ArrayList<>();
            lie.body().get("agreeing").forEach(n -> agreeing.add(n.asText()));
            assertThat(agreeing).containsExactlyInAnyOrderElementsOf(liars);
            await("lie settled").atMost(Duration.ofSeconds(60)).until(() ->
                    live.scalar("select count(*) from agora.ledger_transactions where transaction_id = ?", "refund:" + jobId) == 1);
            Map<String, Long> paid = new HashMap<>();
            for (String liar : liars) {
                paid.put(liar, balance(live, "worker:" + liar));
                assertThat(paid.get(liar)).as("the lie paid " + liar).isEqualTo(postedTo(live, "payout:" + jobId + ":" + liar, "worker:" + liar));
            }
            long clientBefore = balance(live, "client:" + client);

            // 4. the dispute opens and locks the liars' stakes
            MarketClient.Answer d = live.client.send("POST", "/api/v1/jobs/" + jobId + "/dispute", key,
                    "{\"reason\":\"that output is wrong\"}", Map.of());
            assertThat(d.status()).as(d.toString()).isEqualTo(202);
            for (String liar : liars) {
                await("stake of " + liar + " locked").atMost(Duration.ofSeconds(90)).until(() -> live.scalar(
                        "select count(*) from agora.reputation_events where worker_id = ? and job_id = ? and reason = ?",
                        liar, jobId, "dispute opened: stake locked") == 1);
            }
            await("dispute shown open").atMost(Duration.ofSeconds(60)).until(() ->
                    live.scalar("select count(*) from agora.jobs where job_id = ? and dispute = 'opened'", jobId) == 1);
            // a client watching the job now is sent its events until the dispute's decision, not just its state
            CompletableFuture<HttpResponse<String>> watched = HttpClient.newHttpClient().sendAsync(HttpRequest.newBuilder(
                            URI.create(live.market.apiUrl() + "/api/v1/jobs/" + jobId + "/events"))
                    .header("Authorization", "Bearer " + key).header("Accept", "text/event-stream").build(),
                    HttpResponse.BodyHandlers.ofString());
            Map<String, Long> reputationBefore = new HashMap<>();
            for (String liar : liars) {
                reputationBefore.put(liar, live.reputation(liar));
            }

            // 5. while it is open (no honest worker is in the pool yet, so it cannot end), the liars try to
            // take their stake out: deregistering (a graceful stop), then registering again asking for none
            live.market.service("liars").stop();
            Map<String, String> noStake = new HashMap<>(liarEnv);
            noStake.put("AGORA_WORKER_STAKE_MICROS", "0");
            live.market.startWorker("liars", "wrong", noStake);
            Path matcherLog = live.market.service("matcher").log();
            for (String liar : liars) {
                String refused = "worker " + liar + ": unbond refused: an open dispute names the worker (job " + jobId + ")";
                await("both unbonds of " + liar + " refused").atMost(Duration.ofMinutes(2))
                        .until(() -> occurrences(Files.readString(matcherLog), refused) == 2);
            }
            assertThat(live.scalar("select count(*) from agora.jobs where job_id = ? and dispute = 'opened'", jobId))
                    .as("the dispute is still open").isEqualTo(1);
            assertThat(watched).as("the watcher's stream is still open").isNotDone();
            // the verifier crashes while the dispute is open: its state (the open dispute, what the verdict paid)
            // comes back from its changelog, and the decision, the slashes and their receipt below happen after it
            live.market.service("verifier").kill();
            live.market.service("verifier").start();

            // 6. honest workers join the pool and re-run the job: they contradict the liars
            live.market.startWorker("witnesses", "docker", Map.of("AGORA_WORKER_POOL", POOL, "AGORA_WORKER_IDENTITIES", "2"));
            await("dispute decided").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).until(() ->
                    live.strings("select dispute from agora.jobs where job_id = ?", jobId).contains("overturned"));
            List<String> witnesses = live.strings("select distinct worker_id from agora.job_events where job_id = ?"
                    + " and type = 'ASSIGNED' and replica >= 2", jobId);
            assertThat(witnesses).hasSize(2).doesNotContainAnyElementsOf(liars);
            for (String liar : liars) {
                await("slash of " + liar).atMost(Duration.ofSeconds(60)).until(() -> live.scalar(
                        "select count(*) from agora.ledger_transactions where transaction_id = ?", "slash:" + jobId + ":" + liar) == 1);
            }
            assertThat(live.strings("select transaction_id from agora.ledger_transactions where kind = 'UNSTAKE' and client_id in (?, ?)",
                    liars.get(0), liars.get(1))).as("no unbond went through while the dispute was open").isEmpty();

            // the documented split of each slash
            long toClient = 0;
            Map<String, Long> toWitness = new HashMap<>();
            long burned = 0;
            for (String liar : liars) {
                String tx = "slash:" + jobId + ":" + liar;
                long slashed = bond.get(liar) / 2;                // Stake.SLASH_BPS: half the bond
                long clientShare = slashed * 4_000 / 10_000;       // Stake.CLIENT_BPS
                long each = slashed * 4_000 / 10_000 / witnesses.size(); // Stake.HONEST_BPS, shared
                long rest = slashed - clientShare - each * witnesses.size();
                assertThat(postedTo(live, tx, "worker:" + liar)).as("the lie's payment reclaimed").isEqualTo(-paid.get(liar));
                assertThat(postedTo(live, tx, "stake:" + liar)).as("half the bond taken").isEqualTo(-slashed);
                assertThat(postedTo(live, tx, "client:" + client)).as("payment back plus 40 %").isEqualTo(paid.get(liar) + clientShare);
                for (String w : witnesses) {
                    assertThat(postedTo(live, tx, "worker:" + w)).as("honest share of " + w).isEqualTo(each);
                    toWitness.merge(w, each, Long::sum);
                }
                assertThat(postedTo(live, tx, "mint:slashed")).as("the rest burned").isEqualTo(rest).isPositive();
                assertThat(live.scalar("select count(*) from agora.ledger_postings where transaction_id = ?", tx))
                        .as("no other leg").isEqualTo(3 + witnesses.size() + 1);
                assertThat(balance(live, "stake:" + liar)).as("what is left of the bond").isEqualTo(bond.get(liar) - slashed);
                assertThat(balance(live, "worker:" + liar)).isZero();
                toClient += paid.get(liar) + clientShare;
                burned += rest;
                MarketClient.Answer w = live.client.get(key, "/api/v1/workers/" + liar);
                assertThat(w.body().path("stakeMicros").asLong()).as(w.toString()).isEqualTo(bond.get(liar) - slashed);
            }
            assertThat(burned).isPositive();
            for (String w : witnesses) {
                assertThat(postedTo(live, null, "worker:" + w)).as("a witness's only income is its share of the slashes")
                        .isEqualTo(toWitness.get(w));
            }
            // the dispute fee went back, and the client got back what the lie cost it and more
            await("fee refunded").atMost(Duration.ofSeconds(60)).until(() -> live.scalar(
                    "select count(*) from agora.ledger_transactions where transaction_id = ?", "dispute-fee-refund:" + jobId) == 1);
            assertThat(live.strings("select transaction_id from agora.ledger_transactions where job_id = ? and kind = 'DISPUTE_FEE'"
                    + " order by transaction_id", jobId)).containsExactly("dispute-fee-refund:" + jobId, "dispute-fee:" + jobId);
            assertThat(balance(live, "client:" + client)).isEqualTo(clientBefore + toClient);
            assertThat(toClient).as("the lie cost the client nothing").isGreaterThan(lie.body().path("costMicros").asLong());
            for (String liar : liars) {
                await("reputation of " + liar + " drops").atMost(Duration.ofSeconds(60))
                        .until(() -> live.reputation(liar) == reputationBefore.get(liar) - 10);
            }

            // the settlement receipt, fetched from the API and checked offline with the market's public key (the
            // verifier's key file): what each slash took, exactly the SLASH posted; another client's job is a 404
            String marketKey = Receipts.readPublicKey(live.workDir.resolve("state/verifier/verifier-market.key.pub"));
            assertThat(live.client.get(key, "/api/v1/market/key").text("publicKey")).isEqualTo(marketKey);
            MarketClient.Answer[] answer = new MarketClient.Answer[1];
            await("settlement receipt").atMost(Duration.ofSeconds(60)).until(() ->
                    (answer[0] = live.client.get(key, "/api/v1/jobs/" + jobId + "/settlement-receipt")).status() == 200);
            SettlementReceipt settlement = Receipts.settlementFromMap(JSON.convertValue(answer[0].body(),
                    new TypeReference<Map<String, Object>>() { }));
            assertThat(Receipts.problems(settlement, marketKey)).isEmpty();
            assertThat(settlement.getJobId()).isEqualTo(jobId);
            assertThat(settlement.getClientId()).isEqualTo(client);
            assertThat(settlement.getSlashes()).extracting(SlashTaken::getWorkerId).containsExactlyInAnyOrderElementsOf(liars);
            for (SlashTaken t : settlement.getSlashes()) {
                String liar = t.getWorkerId();
                long slashed = bond.get(liar) / 2;
                assertThat(List.of(t.getReclaimMicros(), t.getSlashedMicros(), t.getClientMicros()))
                        .as("the receipt's amounts for " + liar).containsExactly(paid.get(liar), slashed, slashed * 4_000 / 10_000);
                assertThat(t.getHonestShares()).extracting(SlashShare::getWorkerId).containsExactlyInAnyOrderElementsOf(witnesses);
                for (io.agora.events.Posting p : Postings.slash(jobId, client, t, 0).getPostings()) {
                    assertThat(postedTo(live, "slash:" + jobId + ":" + liar, p.getAccountId()))
                            .as("the receipt's leg on " + p.getAccountId()).isEqualTo(p.getAmountMicros());
                }
                assertThat(live.scalar("select count(*) from agora.ledger_postings where transaction_id = ?", "slash:" + jobId + ":" + liar))
                        .as("no leg the receipt does not show").isEqualTo(Postings.slash(jobId, client, t, 0).getPostings().size());
            }
            assertThat(live.client.get(live.apiKey("slash-bystander"), "/api/v1/jobs/" + jobId + "/settlement-receipt").status())
                    .as("another client's job").isEqualTo(404);
            org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
            ds.setURL(live.stack.jdbcUrl());
            ds.setUser(live.stack.jdbcUser());
            ds.setPassword(live.stack.jdbcPassword());
            assertThat(AuditReport.checkReceipts(ds, "agora", marketKey).findings()).as("the audit of the job's receipts")
                    .noneMatch(f -> f.contains(jobId));

            // the job shows the dispute and its outcome
            MarketClient.Answer shown = live.client.job(key, jobId);
            assertThat(shown.text("dispute")).as(shown.toString()).isEqualTo("overturned");
            assertThat(shown.text("status")).isEqualTo("COMPLETED");
            List<String> steps = new ArrayList<>();
            shown.body().path("verdicts").forEach(v -> steps.add(v.path("step").asText()));
            assertThat(steps).as("the verdict history, in order").containsExactly("verdict", "dispute opened", "dispute overturned");
            assertThat(shown.body().path("verdicts").get(0).path("consensusHash").asText()).isEqualTo(lie.text("consensusHash"));
            assertThat(shown.body().path("verdicts").get(2).path("consensusHash").asText()).as("the honest workers' hash")
                    .isNotEmpty().isNotEqualTo(lie.text("consensusHash"));
            List<String> disputed = live.strings("select reason from agora.job_events where job_id = ? and type = 'DISPUTED' order by ts", jobId);
            assertThat(disputed).hasSize(3);
            assertThat(disputed.get(0)).startsWith("opened");
            assertThat(disputed.get(1)).startsWith("overturned");
            assertThat(disputed.get(2)).startsWith("settled: 2 slashes");
            String lastSeen = live.strings("select event_id from agora.job_events where job_id = ? and type = 'COMPLETED'", jobId).get(0);
            MarketClient.Answer events = live.client.send("GET", "/api/v1/jobs/" + jobId + "/events", key, null,
                    Map.of("Accept", "text/event-stream", "Last-Event-ID", lastSeen));
            assertThat(events.status()).isEqualTo(200);
            assertThat(events.body().asText()).as("events after the verdict the client saw")
                    .contains("\"type\":\"DISPUTED\"").contains("overturned");
            HttpResponse<String> stream = watched.get(1, TimeUnit.MINUTES);
            assertThat(stream.statusCode()).isEqualTo(200);
            assertThat(stream.body()).as("the watcher's stream, ended by the decision").contains("\"dispute\":\"opened\"")
                    .contains("\"reason\":\"overturned");

            // 7. the dispute is over: now an unbond goes through, after the cool-down
            long slashedAt = live.scalar("select floor(extract(epoch from max(ts)) * 1000)::bigint from agora.ledger_transactions"
                    + " where kind = 'SLASH' and job_id = ?", jobId);
            live.market.service("liars").stop(); // a deregistration: unbond everything
            for (String liar : liars) {
                await("unbond of " + liar).atMost(Duration.ofMinutes(1)).until(() -> balance(live, "stake:" + liar) == 0);
                assertThat(live.strings("select transaction_id from agora.ledger_transactions where kind = 'UNSTAKE' and client_id = ?", liar))
                        .hasSize(1).allMatch(t -> t.startsWith("unstake:" + liar + ":"));
                assertThat(live.scalar("select floor(extract(epoch from min(ts)) * 1000)::bigint from agora.ledger_transactions"
                        + " where kind = 'UNSTAKE' and client_id = ?", liar)).isGreaterThanOrEqualTo(slashedAt);
                assertThat(balance(live, "worker:" + liar)).isEqualTo(bond.get(liar) - bond.get(liar) / 2);
            }

            // each transaction once on the topic, the ledger balanced and conserved (with what was burned)
            Map<String, Integer> onTopic = live.committedOnLedgerTopic(Set.of(EntryKind.STAKE, EntryKind.UNSTAKE, EntryKind.SLASH,
                    EntryKind.DISPUTE_FEE, EntryKind.PAYOUT, EntryKind.REFUND, EntryKind.ESCROW_HOLD));
            for (String liar : liars) {
                assertThat(onTopic).containsEntry("slash:" + jobId + ":" + liar, 1).containsEntry("payout:" + jobId + ":" + liar, 1);
                assertThat(onTopic.entrySet().stream().filter(e -> e.getKey().startsWith("stake:" + liar + ":")).map(Map.Entry::getValue))
                        .containsExactly(1);
                assertThat(onTopic.entrySet().stream().filter(e -> e.getKey().startsWith("unstake:" + liar + ":")).map(Map.Entry::getValue))
                        .containsExactly(1);
            }
            assertThat(onTopic).containsEntry("dispute-fee:" + jobId, 1).containsEntry("dispute-fee-refund:" + jobId, 1)
                    .doesNotContainKey("dispute-fee-paid:" + jobId);
            assertThat(onTopic.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList())
                    .as("transactions committed twice on agora.ledger.entries").isEmpty();
            live.assertLedgerInvariants();
        } finally {
            live.market.service("liars").stop();
            try {
                live.market.service("witnesses").stop();
            } catch (IllegalArgumentException neverStarted) {
                // the test failed before the honest workers started
            }
        }
    }

    /** {@code extra} with the job's requirements naming pool {@value #POOL}. */
    private static Map<String, Object> inPool(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(extra);
        m.put("requirements", Map.of("pool", POOL));
        return m;
    }

    /** The ids of the {@code count} workers ready in pool {@value #POOL}. */
    private static List<String> awaitPool(LiveMarket live, int count) {
        String adminKey = live.apiKey("observer");
        List<String> ids = new ArrayList<>();
        await("workers of pool " + POOL).atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            MarketClient.Answer a = live.client.get(adminKey, "/api/v1/workers?status=READY&pool=" + POOL);
            var list = a.body().isArray() ? a.body() : a.body().path("workers");
            ids.clear();
            list.forEach(w -> ids.add(w.path("workerId").asText()));
            return a.status() == 200 && ids.size() == count;
        });
        return List.copyOf(ids);
    }

    private static int occurrences(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length())) {
            n++;
        }
        return n;
    }

    private static long balance(LiveMarket live, String account) throws SQLException {
        return live.scalar("select coalesce(sum(balance_micros), 0) from agora.accounts where account_id = ?", account);
    }

    /** What transaction {@code tx} (null: every transaction) posted to {@code account}. */
    private static long postedTo(LiveMarket live, String tx, String account) throws SQLException {
        return tx == null
                ? live.scalar("select coalesce(sum(amount_micros), 0) from agora.ledger_postings where account_id = ?", account)
                : live.scalar("select coalesce(sum(amount_micros), 0) from agora.ledger_postings where transaction_id = ? and account_id = ?",
                tx, account);
    }
}
