package io.agora.matcher.bench;

import io.agora.events.JobSpec;
import io.agora.events.Requirements;
import io.agora.events.WorkerCapabilities;
import io.agora.market.FreeIndex;
import io.agora.market.MatchRequest;
import io.agora.market.Matching;
import io.agora.market.Scoring;
import io.agora.market.WorkerView;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Matching speed: 10,000 registered workers in one pool (varied size, price, load, reputation,
 * latency), N matching decisions of 3 replicas each, every one followed by its effect on the index
 * (the chosen workers lose a slot, as many busy ones finish and get theirs back); prints
 * decisions/s and per-decision latency p50/p99 (target p99 under 1 ms), the decision's own CPU
 * time (what is left when other processes preempt the benchmark) and the index upkeep. The workers are held in a {@link FreeIndex}, as the pool
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
        // indexed as the pool stage keeps its free workers (PoolRegistry): online, with a free slot
        Map<String, WorkerView> current = new HashMap<>();
        FreeIndex index = new FreeIndex();
        for (WorkerView w : workers) {
            current.put(w.workerId(), w);
            reindex(index, null, w);
        }
        JobSpec[] specs = new JobSpec[12];
        for (int i = 0; i < specs.length; i++) {
            specs[i] = JobSpec.newBuilder().setImage("alpine:3").setCommand(List.of("true")).setTimeoutMs(30_000)
                    .setCpus(1 << (i % 3)).setMemoryMb(1024 << (i % 4)).build();
        }
        Scoring.Weights weights = Scoring.Weights.defaults();
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        long[] wall = new long[n];
        long[] cpu = new long[n];
        long[] upkeep = new long[n];
        List<String> busy = new ArrayList<>();
        int warmup = Math.max(10_000, n / 2);
        int chosen = 0;
        long total = 0;
        for (int i = -warmup; i < n; i++) {
            long c0 = mx.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            List<Matching.Choice> choices = decide(index, specs, weights, i + warmup);
            long t1 = System.nanoTime();
            long c1 = mx.getCurrentThreadCpuTime();
            // the placement's effect on the index, as the pool stage has it: each chosen worker loses
            // a slot, and as many busy ones finish a task and get theirs back
            for (Matching.Choice ch : choices) {
                WorkerView v = current.get(ch.worker().workerId());
                WorkerView taken = withSlots(v, v.freeSlots() - 1);
                reindex(index, v, taken);
                current.put(v.workerId(), taken);
                busy.add(v.workerId());
            }
            for (int k = 0; k < choices.size() && !busy.isEmpty(); k++) {
                String id = busy.remove(rnd.nextInt(busy.size()));
                WorkerView v = current.get(id);
                WorkerView back = withSlots(v, v.freeSlots() + 1);
                reindex(index, v, back);
                current.put(id, back);
            }
            long t2 = System.nanoTime();
            if (i >= 0) {
                wall[i] = t1 - t0;
                cpu[i] = c1 - c0;
                upkeep[i] = t2 - t1;
                chosen += choices.size();
                total += t2 - t0;
            }
        }
        Arrays.sort(wall);
        Arrays.sort(cpu);
        Arrays.sort(upkeep);
        System.out.printf("workers=%d (free, indexed: %d in %d shape groups) decisions=%d replicas/decision=3 chosen=%d"
                + " load-average-at-start=%.2f%n", count, index.size(), index.groupCount(), n, chosen, load);
        System.out.printf("decisions/s=%.0f (with index upkeep)%n", n / (total / 1e9));
        System.out.printf("decision latency:   p50=%.3f ms p99=%.3f ms p99.9=%.3f ms max=%.3f ms%n",
                ms(wall, 0.5), ms(wall, 0.99), ms(wall, 0.999), wall[n - 1] / 1e6);
        System.out.printf("decision cpu time:  p50=%.3f ms p99=%.3f ms (this thread only: without preemption by other processes)%n",
                ms(cpu, 0.5), ms(cpu, 0.99));
        System.out.printf("index upkeep:       p50=%.3f ms p99=%.3f ms (re-indexing the chosen and the finished workers)%n",
                ms(upkeep, 0.5), ms(upkeep, 0.99));
    }

    private static double ms(long[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) (sorted.length * q))] / 1e6;
    }

    private static WorkerView withSlots(WorkerView v, int slots) {
        return new WorkerView(v.workerId(), v.pool(), v.online(), v.capabilities(), v.pricePerCpuSecondMicros(),
                slots, v.reputation(), v.ownedPartitions(), v.load(), v.avgLatencyMs());
    }

    /** Out under the old view (if it was indexed), in under the new one if it is free, as the pool stage does. */
    private static void reindex(FreeIndex index, WorkerView old, WorkerView now) {
        if (old != null && old.online() && old.freeSlots() > 0) {
            index.remove(old);
        }
        if (now.online() && now.freeSlots() > 0) {
            index.add(now);
        }
    }

    private static List<Matching.Choice> decide(FreeIndex index, JobSpec[] specs, Scoring.Weights w, int i) {
        Requirements r = Requirements.newBuilder().setMaxPricePerCpuSecondMicros(800 + (i % 5) * 200)
                .setRegion(i % 2 == 0 ? "eu" : null).build();
        return Matching.best(new MatchRequest(specs[i % specs.length], r, 3, Set.of(), null), index, w);
    }
}
