package io.agora.market;

import io.agora.events.JobSpec;
import io.agora.schemas.Fixtures;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PricingTest {

    @Test
    void maxCostCoversEveryReplicaTheJobMayRun() {
        JobSpec spec = JobSpec.newBuilder(Fixtures.spec("true")).setTimeoutMs(30_500).setCpus(1.5).build();
        // 1000 µ/cpu-s x 31 s x 2 cpu units x 6 replicas
        assertThat(Pricing.maxCost(spec, 1000, 6)).isEqualTo(1000L * 31 * 2 * 6);
    }

    @Test
    void payoutUsesTheLowerPriceAndCapsTheDurationAtTheTimeout() {
        assertThat(Pricing.payout(800, 1000, 1500, 10_000, 1.0)).isEqualTo(1200);
        assertThat(Pricing.payout(2000, 1000, 1500, 10_000, 1.0)).isEqualTo(1500);
        assertThat(Pricing.payout(800, 1000, 60_000, 10_000, 1.0)).isEqualTo(8000);
        assertThat(Pricing.payout(800, 1000, -5, 10_000, 1.0)).isZero();
    }

    @Test
    void aPayoutNeverExceedsOneReplicasShareOfTheEscrow() {
        JobSpec spec = JobSpec.newBuilder(Fixtures.spec("true")).setTimeoutMs(7_300).setCpus(2.0).build();
        long share = Pricing.maxCost(spec, 900, 1);
        for (long d = 0; d <= 20_000; d += 97) {
            assertThat(Pricing.payout(5000, 900, d, spec.getTimeoutMs(), spec.getCpus())).isLessThanOrEqualTo(share);
        }
    }

    @Test
    void thePerJobMinimumRaisesAShortReplicaButNeverPastItsShare() {
        JobSpec spec = JobSpec.newBuilder(Fixtures.spec("true")).setTimeoutMs(10_000).setCpus(1.0).build();
        long share = Pricing.replicaShare(spec, 1000);
        assertThat(share).isEqualTo(1000L * 10);
        // 800 µ/cpu-s for 1.5 s = 1,200 µ, raised to the worker's minimum of 3,000
        assertThat(Pricing.payout(800, 3_000, 1000, 1500, spec)).isEqualTo(3_000);
        // a long run earns by time when that is more than the minimum
        assertThat(Pricing.payout(800, 3_000, 1000, 9_000, spec)).isEqualTo(7_200);
        // no minimum: the time-based payout as before
        assertThat(Pricing.payout(800, 0, 1000, 1500, spec)).isEqualTo(Pricing.payout(800, 1000, 1500, 10_000, 1.0));
        // a minimum above the share (matching never allows it) is still capped at the share
        assertThat(Pricing.payout(800, 50_000, 1000, 1500, spec)).isEqualTo(share);
        // a share that does not fit in a long saturates instead of failing
        JobSpec huge = JobSpec.newBuilder(spec).setTimeoutMs(3_600_000).build();
        assertThat(Pricing.replicaShare(huge, Long.MAX_VALUE / 10)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void overflowIsAnErrorNotAWrapAround() {
        JobSpec spec = JobSpec.newBuilder(Fixtures.spec("true")).setTimeoutMs(3_600_000).build();
        assertThatThrownBy(() -> Pricing.maxCost(spec, Long.MAX_VALUE / 10, 3)).isInstanceOf(ArithmeticException.class);
    }

    @Test
    void gpuSecondsAndMemoryArePricedBesideCpuSeconds() {
        // 2 cpu units, 1 GPU, 1.5 GiB -> 2 GiB units; 10 s
        JobSpec spec = JobSpec.newBuilder(Fixtures.spec("true")).setTimeoutMs(10_000).setCpus(2.0).setGpus(1)
                .setMemoryMb(1536).build();
        Pricing.Rates ceilings = new Pricing.Rates(1000, 50_000, 200);
        assertThat(Pricing.perSecond(spec, ceilings)).isEqualTo(1000L * 2 + 50_000 + 200 * 2);
        assertThat(Pricing.maxCost(spec, ceilings, 3)).isEqualTo((1000L * 2 + 50_000 + 200 * 2) * 10 * 3);
        assertThat(Pricing.replicaShare(spec, ceilings)).isEqualTo(Pricing.maxCost(spec, ceilings, 1));
        // each resource at the lower price: cpu 800, GPU 60,000 capped at 50,000, memory 100; 1.5 s
        Pricing.Breakdown b = Pricing.breakdown(new Pricing.Rates(800, 60_000, 100), ceilings, 1500, spec);
        assertThat(b).isEqualTo(new Pricing.Breakdown(800L * 2 * 1500 / 1000, 50_000L * 1500 / 1000, 100L * 2 * 1500 / 1000));
        assertThat(Pricing.payout(new Pricing.Rates(800, 60_000, 100), 0, ceilings, 1500, spec)).isEqualTo(b.totalMicros());
        // a cpu-only price is the old cpu-second model exactly
        assertThat(Pricing.payout(Pricing.Rates.cpuOnly(800), 0, Pricing.Rates.cpuOnly(1000), 1500, spec))
                .isEqualTo(Pricing.payout(800, 1000, 1500, 10_000, 2.0));
    }

    @Test
    void aResourceTheClientDoesNotPayForEarnsNothingAndNoPayoutPassesTheShare() {
        JobSpec spec = JobSpec.newBuilder(Fixtures.spec("true")).setTimeoutMs(7_300).setCpus(1.0).setGpus(2)
                .setMemoryMb(4096).build();
        Pricing.Rates ceilings = new Pricing.Rates(900, 0, 300);
        Pricing.Rates worker = new Pricing.Rates(5000, 70_000, 900);
        assertThat(Pricing.breakdown(worker, ceilings, 5_000, spec).gpuMicros()).isZero();
        long share = Pricing.replicaShare(spec, ceilings);
        for (long d = 0; d <= 20_000; d += 97) {
            assertThat(Pricing.payout(worker, 0, ceilings, d, spec)).isLessThanOrEqualTo(share);
        }
        // a part worth more than a long saturates (the payout is then capped at the share)
        JobSpec endless = JobSpec.newBuilder(spec).setTimeoutMs(Long.MAX_VALUE / 4).setCpus(1e12).build();
        assertThat(Pricing.breakdown(worker, ceilings, Long.MAX_VALUE / 8, endless).cpuMicros()).isEqualTo(Long.MAX_VALUE);
        assertThat(Pricing.payout(worker, 0, ceilings, Long.MAX_VALUE / 8, endless)).isEqualTo(Pricing.replicaShare(endless, ceilings));
        // the whole timeout at the ceilings earns exactly the share when the timeout is whole seconds
        JobSpec whole = JobSpec.newBuilder(spec).setTimeoutMs(7_000).build();
        assertThat(Pricing.payout(worker, 0, ceilings, 7_000, whole)).isEqualTo(Pricing.replicaShare(whole, ceilings));
    }

    @Test
    void aPoolThatBoundsPricesByProofOfHardwareLetsTheCheckedScoreEarnAPriceAboveTheReference() {
        assertThat(Pricing.cpuPriceBound(3_000, 0, 0)).as("no bound set").isEqualTo(3_000);
        assertThat(Pricing.cpuPriceBound(3_000, 0, 1_000)).as("no checked score: the reference price").isEqualTo(1_000);
        assertThat(Pricing.cpuPriceBound(3_000, 400, 1_000)).as("slower than the reference: never below it").isEqualTo(1_000);
        assertThat(Pricing.cpuPriceBound(3_000, 2_500, 1_000)).as("2.5 times the reference speed").isEqualTo(2_500);
        assertThat(Pricing.cpuPriceBound(2_000, 2_500, 1_000)).as("under its bound: what it asked").isEqualTo(2_000);
        assertThat(Pricing.cpuPriceBound(Long.MAX_VALUE, Double.NaN, 1_000)).isEqualTo(1_000);
        assertThat(Pricing.cpuPriceBound(Long.MAX_VALUE, 1e300, 1_000)).as("saturates, never wraps").isEqualTo(Long.MAX_VALUE);
        MarketRules rules = MarketRules.from(io.agora.schemas.AgoraConfig.of(java.util.Map.of(
                "agora.pool.gpu.poh.price.micros", "1500", "agora.pool.off.poh.price.micros", "0")));
        assertThat(rules.pohPriceMicros("gpu")).isEqualTo(1_500);
        assertThat(rules.pohPriceMicros("off")).isZero();
        assertThat(rules.pohPriceMicros("public")).isZero();
        assertThat(rules.withPohPrice("public", 700).pohPriceMicros("public")).isEqualTo(700);
    }
}
