package io.agora.ingest;

import io.agora.events.CommandType;
import io.agora.events.JobCommand;
import io.agora.ingest.api.ApiException;
import io.agora.ingest.config.IngestSettings;
import io.agora.ingest.config.KafkaSettings;
import io.agora.ingest.market.MarketProducer;
import io.agora.schemas.Topics;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Without a broker, a produce answers 503 (after the produce timeout), blocking or not. */
class MarketProducerTest {
    private static final JobCommand CANCEL = JobCommand.newBuilder()
            .setEventId("e1").setJobId("j1").setClientId("c1").setPool("public")
            .setType(CommandType.CANCEL).setReason("test").setTimestamp(Instant.EPOCH).build();

    private static MarketProducer unreachable() {
        // port 1: nothing listens, the metadata never arrives
        return new MarketProducer(new KafkaSettings("localhost:1", "plain"),
                new IngestSettings("t", 1, 1, 10, false, 1000, 300));
    }

    @Test
    void anUnreachableBrokerFailsTheFutureWith503() {
        try (MarketProducer p = unreachable()) {
            assertThatThrownBy(() -> p.sendAsync(Topics.JOB_COMMANDS, "j1", CANCEL).join())
                    .isInstanceOf(CompletionException.class)
                    .cause().isInstanceOfSatisfying(ApiException.class,
                            e -> assertThat(e.status().getCode()).isEqualTo(503));
        }
    }

    @Test
    void theBlockingSendThrowsThe503Itself() {
        try (MarketProducer p = unreachable()) {
            assertThatThrownBy(() -> p.send(Topics.JOB_COMMANDS, "j1", CANCEL))
                    .isInstanceOfSatisfying(ApiException.class,
                            e -> assertThat(e.status().getCode()).isEqualTo(503));
        }
    }
}
