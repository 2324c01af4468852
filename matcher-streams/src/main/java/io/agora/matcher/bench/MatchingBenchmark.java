package io.agora.matcher.bench;

import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.events.WorkerCapabilities;
import io.agora.matcher.FreeIndex;
import io.agora.matcher.MatchRequest;
import io.agora.matcher.Matching;
import io.agora.matcher.Scoring;
import io.agora.matcher.WorkerView;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Matching speed: 10,000 registered workers in one pool (varied size, price, load, reputation,
 * latency), N matching decisions of 3 replicas each; prints decisions/s and per-decision latency
 * p50/p99 (target p99 under 1 ms). The workers are held in a {@link FreeIndex}, as the pool
 * stage holds its free workers ({@link Matching#best(MatchRequest, FreeIndex, Scoring.Weights)}); the jobs
 * vary in size (1-4 cpus, 1-8 GiB), price ceiling and region. Run: {@code java -cp ... io.agora.matcher.bench.MatchingBenchmark [N] [workers]}.
 */
public final class MatchingBenchmark {
    private MatchingBenchmark() {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        Random rnd = new Random(42);
        List<WorkerView> workers = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            WorkerCapabilities caps = WorkerCapabilities.newBuilder().setArch("x86_64")
                    .setCpuCores(1 << rnd.nextInt(6)).setCpuThreads(64).setMemoryMb((1024L << rnd.nextInt(6)) * (100 + rnd.nextInt(25)) / 100)
                    .setPricePerCpuSecondMicros(200 + rnd.nextInt(1600)).setMaxConcurrent(4).setPool("public")
                    .setRegion(rnd.nextBoolean() ? "eu" : "us").setTags(List.of("ssd")).build();
            workers.add(new WorkerView(String.format("worker-%05d", i), "public", rnd.nextInt(20) != 0, caps,
                    caps.getPricePerCpuSecondMicros(), rnd.nextInt(5), rnd.nextInt(200) - 50,
                    List.of(i % 24), rnd.nextDouble(), rnd.nextBoolean() ? -1 : rnd.nextInt(20_000)));
        }
        // indexed as the pool stage keeps its free workers (PoolMarketProcessor), built once
        FreeIndex index = FreeIndex.of(workers);
        JobSpec[] specs = new JobSpec[12];
        for (int i = 0; i < specs.length; i++) {
            specs[i] = JobSpec.newBuilder().setImage("alpine:3").setCommand(List.of("true")).setTimeoutMs(30_000)
                    .setCpus(1 << (i % 3)).setMemoryMb(1024 << (i % 4)).build();
        }
        Scoring.Weights weights = Scoring.Weights.defaults();
        long[] nanos = new long[n];
        int chosen = 0;
        for (int warm = 0; warm < 2_000; warm++) {
            chosen += decide(index, specs, weights, warm).size();
        }
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            chosen += decide(index, specs, weights, i).size();
            nanos[i] = System.nanoTime() - t;
        }
        long total = System.nanoTime() - start;
        Arrays.sort(nanos);
        System.out.printf("workers=%d shape-groups=%d decisions=%d replicas/decision=3 chosen=%d%n",
                count, index.groupCount(), n, chosen);
        System.out.printf("decisions/s=%.0f p50=%.3f ms p99=%.3f ms max=%.3f ms%n",
                n / (total / 1e9), nanos[n / 2] / 1e6, nanos[(int) (n * 0.99)] / 1e6, nanos[n - 1] / 1e6);
    }

    private static List<Matching.Choice> decide(FreeIndex index, JobSpec[] specs, Scoring.Weights w, int i) {
        Requirements r = Requirements.newBuilder().setMaxPricePerCpuSecondMicros(800 + (i % 5) * 200)
                .setRegion(i % 2 == 0 ? "eu" : null).build();
        return Matching.best(new MatchRequest(specs[i % specs.length], r, 3, Set.of(), null), index, w);
    }
}
