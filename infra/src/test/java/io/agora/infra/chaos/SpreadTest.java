package io.agora.infra.chaos;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SpreadTest {
    @Test
    void aStreamsInstancesHealthGivesItsTasksAndProcessedRecords() throws Exception {
        Spread.Reading r = Spread.fromHealth("matcher-2", """
                {"app":"matcher","status":"UP","state":"RUNNING","threadsAlive":1,"threadsReplaced":0,\
                "processed":1234,"activeTasks":"0_1,1_1","standbyTasks":"0_0"}""");
        assertThat(r.active()).containsExactly("0_1", "1_1");
        assertThat(r.standby()).containsExactly("0_0");
        assertThat(r.processed()).isEqualTo(1234);
        assertThat(Spread.fromHealth("matcher", "{\"status\":\"DOWN\",\"activeTasks\":\"\"}").active()).isEmpty();
    }

    @Test
    void submissionsCountEveryAnswerToPostJobsOnly() {
        String scrape = """
                # HELP http_server_requests_seconds
                http_server_requests_seconds_count{exception="none",method="POST",status="202",uri="/api/v1/jobs"} 120.0
                http_server_requests_seconds_count{exception="none",method="POST",status="503",uri="/api/v1/jobs"} 3.0
                http_server_requests_seconds_count{exception="none",method="GET",status="200",uri="/api/v1/jobs/{id}"} 50.0
                http_server_requests_seconds_sum{exception="none",method="POST",status="202",uri="/api/v1/jobs"} 9.5
                """;
        assertThat(Spread.submissions(scrape)).isEqualTo(123);
    }

    @Test
    void aKilledInstancesTasksAreFoundWhereTheyAreNowOrUnderNone() {
        List<Spread.Reading> now = List.of(
                new Spread.Reading("matcher", "unreachable", List.of(), List.of(), 0, 0),
                new Spread.Reading("verifier", "UP", List.of("1_1"), List.of(), 10, 0),
                new Spread.Reading("matcher-2", "UP", List.of("0_0", "0_1", "1_0"), List.of(), 10, 0));
        assertThat(Spread.whereNow("matcher", List.of("0_1", "1_0", "1_1"), now))
                .isEqualTo(Map.of("matcher-2", List.of("0_1", "1_0"), "none", List.of("1_1")));
    }

    @Test
    void longTaskListsAreCut() {
        assertThat(Spread.shortList(List.of("0_0", "0_1"))).isEqualTo("[0_0, 0_1]");
        assertThat(Spread.shortList(List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j")))
                .isEqualTo("[a, b, c, d, e, f, g, h, ... 2 more]");
    }

    @Test
    void theInstancesComeFromTheScriptsList() {
        assertThat(Spread.parse("matcher=http://localhost:1,ingest-api-2=http://localhost:2").instances())
                .containsExactly(new Spread.Instance("matcher", "http://localhost:1"),
                        new Spread.Instance("ingest-api-2", "http://localhost:2"));
    }
}
