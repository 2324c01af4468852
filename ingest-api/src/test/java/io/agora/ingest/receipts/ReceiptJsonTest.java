package io.agora.ingest.receipts;

import io.agora.events.Outcome;
import io.agora.events.Receipt;
import io.agora.events.ReceiptPayout;
import io.agora.schemas.Identity;
import io.agora.schemas.Receipts;
import io.micronaut.core.type.Argument;
import io.micronaut.serde.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The receipt as the API writes it (Micronaut's serde) reads back to the bytes the market signed. */
class ReceiptJsonTest {
    @Test
    void theApisJsonOfAReceiptStillVerifies() throws Exception {
        Identity market = Identity.generate();
        Receipt r = Receipts.sign(Receipt.newBuilder().setJobId("j1").setClientId("alice").setOutcome(Outcome.COMPLETED)
                .setAgreedHash("ab").setPayouts(List.of(new ReceiptPayout("w1", 9_000_000_000L)))
                .setRefundMicros(1).setEscrowMicros(9_000_000_001L).setIssuedAt(Instant.ofEpochMilli(5_123))
                .setMarketKey("").setSignature(ByteBuffer.allocate(0)).build(), market);
        ObjectMapper json = ObjectMapper.getDefault();
        String body = json.writeValueAsString(Receipts.toMap(r));
        Map<String, Object> back = json.readValue(body, Argument.mapOf(String.class, Object.class));
        assertThat(Receipts.problems(Receipts.fromMap(back), market.workerId())).isEmpty();
        assertThat(body).contains("\"issuedAt\":\"1970-01-01T00:00:05.123Z\"");
    }

    @Test
    void theApisJsonOfASettlementReceiptStillVerifies() throws Exception {
        Identity market = Identity.generate();
        io.agora.events.SettlementReceipt r = Receipts.sign(io.agora.events.SettlementReceipt.newBuilder().setJobId("j1")
                .setClientId("alice").setSlashes(List.of(new io.agora.events.SlashTaken("w1", 9_000_000_000L, 1_000L, 400L,
                        List.of(new io.agora.events.SlashShare("w2", 400L)), 200L)))
                .setIssuedAt(Instant.ofEpochMilli(7_000)).setMarketKey("").setSignature(ByteBuffer.allocate(0)).build(), market);
        ObjectMapper json = ObjectMapper.getDefault();
        Map<String, Object> back = json.readValue(json.writeValueAsString(Receipts.toMap(r)), Argument.mapOf(String.class, Object.class));
        assertThat(Receipts.settlementFromMap(back)).isEqualTo(r);
        assertThat(Receipts.problems(Receipts.settlementFromMap(back), market.workerId())).isEmpty();
    }
}
