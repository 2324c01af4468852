package io.agora.cli;

import io.agora.events.EntryKind;
import io.agora.events.JobVerdict;
import io.agora.events.Outcome;
import io.agora.events.TaskAssigned;
import io.agora.market.Accounts;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static io.agora.cli.Market.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MarketAnalyticsTest {
    private static final Instant FROM = T0;
    private static final Instant TO = T0.plus(Duration.ofMinutes(5));

    private static MarketAnalytics of(List<TaskAssigned> tasks, List<JobVerdict> verdicts, List<io.agora.events.LedgerEntry> ledger) {
        return new MarketAnalytics(FROM, TO, Duration.ofMinutes(1), List.of(), tasks, List.of(), verdicts, ledger);
    }

    @Test
    void nearestRankPercentiles() {
        long[] hundred = LongStream.rangeClosed(1, 100).toArray();
        assertThat(MarketAnalytics.percentile(hundred, 50)).isEqualTo(50);
        assertThat(MarketAnalytics.percentile(hundred, 95)).isEqualTo(95);
        assertThat(MarketAnalytics.percentile(hundred, 99)).isEqualTo(99);
        assertThat(MarketAnalytics.percentile(new long[]{7}, 99)).isEqualTo(7);
        assertThat(MarketAnalytics.percentile(new long[]{1, 2, 3, 4}, 50)).isEqualTo(2);
        assertThat(MarketAnalytics.percentile(new long[]{1, 2, 3, 4}, 99)).isEqualTo(4);
        assertThatThrownBy(() -> MarketAnalytics.percentile(new long[0], 50)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void latencyIsDecidedMinusSubmittedPerOutcomeAndOverall() {
        List<JobVerdict> vs = new ArrayList<>();
        for (int i = 1; i <= 100; i++) { // latencies 1..100 s, decided within the range
            Instant decided = FROM.plusSeconds(150);
            vs.add(verdict("j" + i, i <= 90 ? Outcome.COMPLETED : Outcome.EXPIRED, List.of(), List.of(),
                    decided.minusSeconds(i), decided));
        }
        List<MarketAnalytics.Latency> l = of(List.of(), vs, List.of()).latency();
        assertThat(l.get(0)).isEqualTo(new MarketAnalytics.Latency("all", 100, 50_000, 95_000, 99_000, 100_000, 50_500.0));
        assertThat(l).extracting(MarketAnalytics.Latency::group).containsExactly("all", "COMPLETED", "EXPIRED");
        assertThat(l.get(1).count()).isEqualTo(90);
        assertThat(l.get(1).p50()).isEqualTo(45_000);
        assertThat(l.get(2).p50()).isEqualTo(95_000);
    }

    @Test
    void throughputBucketsEveryMinuteIncludingEmptyOnesAndOnlyInsideTheRange() {
        List<JobVerdict> vs = List.of(
                verdict("a", Outcome.COMPLETED, List.of(), List.of(), FROM, FROM.plusSeconds(5)),
                verdict("b", Outcome.FAILED, List.of(), List.of(), FROM, FROM.plusSeconds(59)),
                verdict("c", Outcome.COMPLETED, List.of(), List.of(), FROM, FROM.plusSeconds(60)),
                verdict("d", Outcome.COMPLETED, List.of(), List.of(), FROM, FROM.plusSeconds(299)),
                verdict("c", Outcome.FAILED, List.of(), List.of(), FROM, FROM.plusSeconds(61)), // second verdict of c: ignored
                verdict("before", Outcome.COMPLETED, List.of(), List.of(), FROM, FROM.minusSeconds(1)),
                verdict("after", Outcome.COMPLETED, List.of(), List.of(), FROM, TO));
        MarketAnalytics a = of(List.of(), vs, List.of());
        assertThat(a.verdictCount()).isEqualTo(4);
        assertThat(a.throughput()).containsExactly(
                new MarketAnalytics.Bucket(FROM, 2, 1),
                new MarketAnalytics.Bucket(FROM.plusSeconds(60), 1, 1),
                new MarketAnalytics.Bucket(FROM.plusSeconds(120), 0, 0),
                new MarketAnalytics.Bucket(FROM.plusSeconds(180), 0, 0),
                new MarketAnalytics.Bucket(FROM.plusSeconds(240), 1, 1));
    }

    @Test
    void bucketsAlignToTheBucketSizeWhenTheRangeDoesNot() {
        MarketAnalytics a = new MarketAnalytics(FROM.plusSeconds(30), FROM.plusSeconds(150), Duration.ofMinutes(1),
                List.of(), List.of(), List.of(), List.of(), List.of());
        assertThat(a.throughput()).extracting(MarketAnalytics.Bucket::start)
                .containsExactly(FROM, FROM.plusSeconds(60), FROM.plusSeconds(120));
    }

    @Test
    void workerEarningsComeFromPayoutPostingsAndAgreementFromVerdicts() {
        List<io.agora.events.LedgerEntry> ledger = List.of(
                payout("j1", "w1", 300, FROM.plusSeconds(10)),
                payout("j2", "w1", 200, FROM.plusSeconds(20)),
                payout("j1", "w2", 100, FROM.plusSeconds(10)),
                payout("old", "w2", 999, FROM.minusSeconds(10)), // outside the range
                // not payouts: refunds and holds never count as earnings
                entry("refund:j1", EntryKind.REFUND, "j1", FROM.plusSeconds(10),
                        posting(Accounts.escrow("j1"), -50), posting(Accounts.client("c1"), 50)));
        List<JobVerdict> vs = List.of(
                verdict("j1", Outcome.COMPLETED, List.of("w1", "w2"), List.of("w3"), FROM, FROM.plusSeconds(10)),
                verdict("j2", Outcome.COMPLETED, List.of("w1", "w3"), List.of("w2"), FROM, FROM.plusSeconds(20)),
                verdict("j3", Outcome.COMPLETED, List.of("w1"), List.of(), FROM, FROM.plusSeconds(30)));
        List<TaskAssigned> tasks = List.of(task("j1", 0, "w1", "public", 10, FROM.plusSeconds(1)));
        List<MarketAnalytics.WorkerStats> ws = of(tasks, vs, ledger).workers();
        assertThat(ws).extracting(MarketAnalytics.WorkerStats::workerId).containsExactly("w1", "w2", "w3");
        MarketAnalytics.WorkerStats w1 = ws.get(0);
        assertThat(w1.earningsMicros()).isEqualTo(500);
        assertThat(w1.payouts()).isEqualTo(2);
        assertThat(w1.tasks()).isEqualTo(1);
        assertThat(w1.agreementRate()).isEqualTo(1.0);
        assertThat(ws.get(1).earningsMicros()).isEqualTo(100);
        assertThat(ws.get(1).agreementRate()).isEqualTo(0.5);
        assertThat(ws.get(2).earningsMicros()).isZero();
        assertThat(ws.get(2).agreementRate()).isEqualTo(0.5);
        assertThat(new MarketAnalytics.WorkerStats("x", 0, 0, 0, 0, 0, 0).agreementRate()).isNaN();
    }

    @Test
    void pricesAreOneBinPerValueWhenFewAndWidthBinnedWhenMany() {
        List<TaskAssigned> tasks = List.of(
                task("j1", 0, "w1", "public", 10, FROM.plusSeconds(1)),
                task("j1", 1, "w2", "public", 10, FROM.plusSeconds(1)),
                task("j1", 2, "w3", "public", 25, FROM.plusSeconds(1)),
                task("j0", 0, "w3", "public", 99, FROM.minusSeconds(1))); // outside the range
        assertThat(of(tasks, List.of(), List.of()).prices()).containsExactly(
                new MarketAnalytics.PriceBin(10, 10, 2), new MarketAnalytics.PriceBin(25, 25, 1));

        List<Long> many = LongStream.range(0, 100).boxed().toList(); // 0..99, 100 distinct
        List<MarketAnalytics.PriceBin> bins = MarketAnalytics.histogram(many);
        assertThat(bins).hasSize(10);
        assertThat(bins.get(0)).isEqualTo(new MarketAnalytics.PriceBin(0, 9, 10));
        assertThat(bins.get(9)).isEqualTo(new MarketAnalytics.PriceBin(90, 99, 10));
        assertThat(bins.stream().mapToLong(MarketAnalytics.PriceBin::count).sum()).isEqualTo(100);
        assertThat(MarketAnalytics.histogram(List.of())).isEmpty();
    }

    @Test
    void reliabilityPerPoolUsesTheTasksTermsThenTheRequest() {
        List<TaskAssigned> tasks = List.of(
                task("j1", 0, "w1", "gpu", 10, FROM.minusSeconds(600)), // before the range: still gives the pool
                task("j2", 0, "w1", "gpu", 10, FROM.plusSeconds(1)),
                task("j3", 0, "w1", "public", 10, FROM.plusSeconds(1)));
        List<JobVerdict> vs = List.of(
                verdict("j1", Outcome.COMPLETED, List.of("w1"), List.of(), FROM, FROM.plusSeconds(10)),
                verdict("j2", Outcome.NO_CONSENSUS, List.of(), List.of(), FROM, FROM.plusSeconds(10)),
                verdict("j3", Outcome.COMPLETED, List.of("w1"), List.of(), FROM, FROM.plusSeconds(10)),
                verdict("j4", Outcome.EXPIRED, List.of(), List.of(), FROM, FROM.plusSeconds(10)),
                verdict("j5", Outcome.EXPIRED, List.of(), List.of(), FROM, FROM.plusSeconds(10)));
        MarketAnalytics a = new MarketAnalytics(FROM, TO, Duration.ofMinutes(1),
                List.of(request("j4", "c1", "public", FROM)), tasks, List.of(), vs, List.of());
        List<MarketAnalytics.PoolStats> pools = a.pools();
        assertThat(pools).extracting(MarketAnalytics.PoolStats::pool).containsExactly("gpu", "public", "unknown");
        assertThat(pools.get(0).reliability()).isEqualTo(0.5);
        assertThat(pools.get(1).total()).isEqualTo(2);
        assertThat(pools.get(1).reliability()).isEqualTo(0.5);
        assertThat(pools.get(2).reliability()).isEqualTo(0.0);
    }

    @Test
    void rejectsAnEmptyRangeOrBucket() {
        assertThatThrownBy(() -> new MarketAnalytics(TO, FROM, Duration.ofMinutes(1), List.of(), List.of(), List.of(), List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new MarketAnalytics(FROM, TO, Duration.ZERO, List.of(), List.of(), List.of(), List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void timeArguments() {
        Instant now = Instant.parse("2026-02-01T12:00:00Z");
        assertThat(TimeArg.instant("now", now)).isEqualTo(now);
        assertThat(TimeArg.instant("-1h", now)).isEqualTo(now.minusSeconds(3600));
        assertThat(TimeArg.instant("-24h", now)).isEqualTo(now.minus(Duration.ofDays(1)));
        assertThat(TimeArg.instant("2026-01-01T00:00:00Z", now)).isEqualTo(T0);
        assertThat(TimeArg.duration("PT5M")).isEqualTo(Duration.ofMinutes(5));
        assertThat(TimeArg.duration("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThatThrownBy(() -> TimeArg.instant("yesterday", now)).isInstanceOf(IllegalArgumentException.class);
    }
}
