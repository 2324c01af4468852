package io.agora.infra.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The CPU each process of a stack uses, read from {@code /proc/<pid>/stat}: a component is its
 * process and every descendant (PostgreSQL's backends and background workers under the
 * postmaster), and it includes the time of children that ended and were reaped (a backend of a
 * closed connection). {@code agora idle [S]} runs {@link #main} on the dev stack (every
 * {@code run/*.pid} of its AGORA_HOME: brokers, registry and its gate, PostgreSQL, the OCI
 * registry, Prometheus, each service and worker); {@code agora bench --idle S} prints the same
 * table for its stack and market.
 */
public final class StackCpu {
    /** Clock ticks per second of {@code /proc/<pid>/stat} (USER_HZ, 100 on Linux). */
    static final long TICKS_PER_SECOND = 100;

    private StackCpu() {
    }

    /**
     * CPU ms of a process's own threads plus its reaped children (utime, stime, cutime, cstime),
     * from one {@code /proc/<pid>/stat} line; the command name may hold spaces and parentheses.
     */
    static long ownCpuMs(String statLine) {
        String[] f = statLine.substring(statLine.lastIndexOf(')') + 2).split(" ");
        // f[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
        return ticks * 1000 / TICKS_PER_SECOND;
    }

    /** CPU ms of {@code pid} and all its live descendants (and their reaped children); -1 when it is gone. */
    public static long treeCpuMs(long pid) {
        long own = cpuMs(pid);
        if (own < 0) {
            return -1;
        }
        long sum = own;
        for (ProcessHandle d : ProcessHandle.of(pid).map(h -> h.descendants().toList()).orElse(List.of())) {
            sum += Math.max(0, cpuMs(d.pid()));
        }
        return sum;
    }

    private static long cpuMs(long pid) {
        try {
            return ownCpuMs(Files.readString(Path.of("/proc/" + pid + "/stat")));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Every {@code NAME.pid} of a stack's run folder whose process lives, by NAME. */
    public static Map<String, Long> pids(Path runDir) {
        Map<String, Long> out = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(runDir, "*.pid")) {
            for (Path f : ds) {
                try {
                    long pid = Long.parseLong(Files.readString(f).trim());
                    if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                        out.put(f.getFileName().toString().replaceFirst("\\.pid$", ""), pid);
                    }
                } catch (IOException | NumberFormatException ignored) {
                    // a pid file being written or removed
                }
            }
        } catch (IOException ignored) {
            // no run folder: nothing of this stack runs
        }
        return out;
    }

    /** CPU ms of each named process tree (-1 when gone). */
    public static Map<String, Long> sample(Map<String, Long> pids) {
        Map<String, Long> out = new LinkedHashMap<>();
        pids.forEach((name, pid) -> out.put(name, treeCpuMs(pid)));
        return out;
    }

    /**
     * The table: each component's CPU between two samples as % of one core, most expensive first,
     * then the total; components missing from either sample are left out.
     */
    public static List<String> table(Map<String, Long> before, Map<String, Long> after, double seconds) {
        List<Map.Entry<String, Double>> rows = new ArrayList<>();
        for (var e : after.entrySet()) {
            Long b = before.get(e.getKey());
            if (b == null || b < 0 || e.getValue() < 0) {
                continue;
            }
            rows.add(Map.entry(e.getKey(), (e.getValue() - b) / 10.0 / seconds));
        }
        rows.sort(Map.Entry.<String, Double>comparingByValue().reversed());
        List<String> out = new ArrayList<>();
        double total = 0;
        for (var r : rows) {
            total += r.getValue();
            out.add(String.format(Locale.ROOT, "  %-14s %6.2f %%", r.getKey(), r.getValue()));
        }
        out.add(String.format(Locale.ROOT, "  %-14s %6.2f %%  (target <= 5%%)", "total", total));
        return out;
    }

    /** {@code StackCpu RUN_DIR [SECONDS]}: every process of the stack, its CPU over SECONDS (60). */
    public static void main(String[] args) throws InterruptedException {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: StackCpu RUN_DIR [SECONDS]");
            System.exit(2);
        }
        Path run = Path.of(args[0]);
        long seconds = args.length > 1 ? Long.parseLong(args[1]) : 60;
        Map<String, Long> pids = pids(run);
        if (pids.isEmpty()) {
            System.err.println("nothing of this stack runs (no live pid in " + run + ")");
            System.exit(1);
        }
        Map<String, Long> before = sample(pids);
        long t0 = System.nanoTime();
        TimeUnit.SECONDS.sleep(seconds);
        Map<String, Long> after = sample(pids);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "==== CPU of the stack in %s over %.0f s, %% of one core (with child processes) ====%n",
                run.getParent(), s);
        table(before, after, s).forEach(System.out::println);
        System.out.println(loadAverage());
    }

    /** The machine's load average, to judge a figure taken on a shared machine. */
    static String loadAverage() {
        try {
            String[] load = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return String.format(Locale.ROOT, "machine: %d cpus, load average %s %s %s",
                    Runtime.getRuntime().availableProcessors(), load[0], load[1], load[2]);
        } catch (IOException e) {
            return "machine: load average unknown";
        }
    }
}
