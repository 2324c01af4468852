package io.agora.infra.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class StackCpuTest {

    @Test
    void cpuOfAProcessCountsItsThreadsAndItsReapedChildren() {
        // a command name with spaces and a parenthesis; utime 300, stime 50, cutime 20, cstime 10 ticks
        String stat = "4242 (postgres: a (b) c) S 1 4242 4242 0 -1 4194560 900 0 0 0 300 50 20 10 20 0 1 0 1000 0 0";
        assertThat(StackCpu.ownCpuMs(stat)).isEqualTo(3800);
    }

    @Test
    void theTableListsTheDearestFirstAndLeavesOutWhatWasNotInBothSamples() {
        Map<String, Long> before = new LinkedHashMap<>(Map.of("kafka", 1000L, "matcher", 500L, "gone", 100L));
        Map<String, Long> after = new LinkedHashMap<>();
        after.put("matcher", 1100L); // 600 ms over 60 s: 1 %
        after.put("kafka", 2200L);   // 1200 ms: 2 %
        after.put("gone", -1L);
        after.put("late", 50L);
        assertThat(StackCpu.table(before, after, 60)).containsExactly(
                "  kafka            2.00 %",
                "  matcher          1.00 %",
                "  total            3.00 %  (target <= 5%)");
    }

    @Test
    void theStackIsEveryLivePidFileOfItsRunFolder(@TempDir Path run) throws Exception {
        Files.writeString(run.resolve("kafka.pid"), ProcessHandle.current().pid() + "\n");
        Files.writeString(run.resolve("registry.pid"), "not a pid");
        Files.writeString(run.resolve("notes.txt"), "1");
        assertThat(StackCpu.pids(run)).containsOnlyKeys("kafka");
        assertThat(StackCpu.treeCpuMs(ProcessHandle.current().pid())).isPositive();
    }
}
