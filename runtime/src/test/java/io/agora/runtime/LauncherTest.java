package io.agora.runtime;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class LauncherTest {

    @Test
    void healthJsonNamesTheAppOnce() {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("status", "DOWN");
        h.put("app", "agora-matcher");
        h.put("reason", "state \"ERROR\"\n");
        h.put("threadsAlive", 0);
        assertThat(Launcher.healthJson("matcher", h)).isEqualTo(
                "{\"app\":\"agora-matcher\",\"status\":\"DOWN\",\"reason\":\"state \\\"ERROR\\\"\\n\",\"threadsAlive\":0}");
    }

    @Test
    void healthJsonNamesAServiceWithoutItsOwnNameByTheLaunchersName() {
        assertThat(Launcher.healthJson("worker", Map.of("status", "UP"))).isEqualTo("{\"app\":\"worker\",\"status\":\"UP\"}");
    }
}
