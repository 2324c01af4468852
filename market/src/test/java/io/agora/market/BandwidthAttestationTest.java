package io.agora.market;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class BandwidthAttestationTest {
    static final byte[] KEY = PohChallengeTest.KEY;
    static final long T = PohChallengeTest.T;

    @Test
    void aTicketIsTheMarketsAndItsReceiptOnlyTheKeyComputes() {
        String ticket = BandwidthAttestation.ticket(KEY, "w-a", 8L << 20, T);
        assertThat(BandwidthAttestation.parseTicket(KEY, ticket)).isEqualTo(new BandwidthAttestation.Ticket(T, "w-a", 8L << 20));
        assertThat(BandwidthAttestation.parseTicket(KEY, ticket.replace(":" + (8L << 20) + ":", ":1:"))).isNull();
        assertThat(BandwidthAttestation.parseTicket(KEY, "bwt1:x")).isNull();
        byte[] receipt = BandwidthAttestation.receipt(KEY, ticket);
        assertThat(receipt).hasSize(BandwidthAttestation.RECEIPT_BYTES);
        String hex = java.util.HexFormat.of().formatHex(receipt);
        assertThat(BandwidthAttestation.receiptMatches(KEY, ticket, hex)).isTrue();
        assertThat(BandwidthAttestation.receiptMatches(KEY, ticket, hex.toUpperCase())).isTrue();
        assertThat(BandwidthAttestation.receiptMatches(KEY, ticket, "00".repeat(16))).isFalse();
        assertThat(BandwidthAttestation.receiptMatches(KEY, ticket, null)).isFalse();
        assertThat(BandwidthAttestation.mbps(8_000_000, T, T + 64)).isEqualTo(1000);
        assertThat(BandwidthAttestation.mbps(8_000_000, T, T)).as("at least 1 ms").isEqualTo(64_000);
    }

    @Test
    void theClaimCountsUpToAFreshAttestationOfThisWorkerElse0() {
        String a = BandwidthAttestation.issue(KEY, List.of("w-b", "w-a"), 900, T);
        assertThat(BandwidthAttestation.parse(a)).isEqualTo(new BandwidthAttestation.Parsed(T, List.of("w-a", "w-b"), 900));
        assertThat(BandwidthAttestation.verdict(KEY, "w-a", 5000, a, T + 10)).isEqualTo(new BandwidthAttestation.Verdict(900, null));
        assertThat(BandwidthAttestation.verdict(KEY, "w-b", 400, a, T + 10)).isEqualTo(new BandwidthAttestation.Verdict(400, null));
        assertThat(BandwidthAttestation.verdict(KEY, "w-c", 400, a, T + 10).refused()).contains("other workers");
        assertThat(BandwidthAttestation.verdict(KEY, "w-a", 5000, a.replace(":900:", ":9000:"), T + 10).refused())
                .contains("not issued by this market");
        assertThat(BandwidthAttestation.verdict(KEY, "w-a", 5000, a, T + BandwidthAttestation.VALID_MS).mbps()).isEqualTo(900);
        BandwidthAttestation.Verdict stale = BandwidthAttestation.verdict(KEY, "w-a", 5000, a, T + BandwidthAttestation.VALID_MS + 1);
        assertThat(stale.mbps()).isZero();
        assertThat(stale.refused()).contains("stale");
        assertThat(BandwidthAttestation.verdict(KEY, "w-a", 5000, a, T - PohChallenge.SKEW_MS - 1).refused()).contains("after");
        assertThat(BandwidthAttestation.verdict(KEY, "w-a", 5000, null, T)).isEqualTo(
                new BandwidthAttestation.Verdict(0, "no market attestation (an unchecked claim counts 0)"));
        assertThat(BandwidthAttestation.verdict(KEY, "w-a", 0, null, T)).isEqualTo(new BandwidthAttestation.Verdict(0, null));
        assertThat(BandwidthAttestation.verdict(KEY, "w-a", 5000, "bw1:garbage", T).refused()).contains("not a bandwidth");
        // a ticket is no attestation
        assertThat(BandwidthAttestation.verdict(KEY, "w-a", 5000, BandwidthAttestation.ticket(KEY, "w-a", 1 << 20, T), T).mbps())
                .isZero();
    }
}
