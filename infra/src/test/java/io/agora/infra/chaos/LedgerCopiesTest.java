package io.agora.infra.chaos;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LedgerCopiesTest {
    private static final String LEDGER = "agora.ledger.entries";

    @Test
    void aTransactionReadTwiceIsNamedWithBothPositions() {
        LedgerCopies read = new LedgerCopies();
        read.read("hold:job-1", LEDGER, 0, 82);
        read.read("hold:job-2", LEDGER, 0, 83);
        read.read("payout:job-2:w1", LEDGER, 0, 90);
        read.read("hold:job-1", LEDGER, 0, 91);

        assertThat(read.transactions()).isEqualTo(3);
        assertThat(read.copies()).containsOnlyKeys("hold:job-1");
        assertThat(read.describe(10)).containsExactly("hold:job-1 at agora.ledger.entries-0@82, agora.ledger.entries-0@91");
    }

    @Test
    void eachTransactionReadOnceHasNoCopy() {
        LedgerCopies read = new LedgerCopies();
        read.read("hold:job-1", LEDGER, 0, 1);
        read.read("hold:job-2", LEDGER, 3, 1);

        assertThat(read.copies()).isEmpty();
        assertThat(read.describe(10)).isEmpty();
    }

    @Test
    void theDescriptionStopsAtTheLimitInIdOrder() {
        LedgerCopies read = new LedgerCopies();
        for (String id : List.of("c", "a", "b")) {
            read.read(id, LEDGER, 1, 1);
            read.read(id, LEDGER, 2, 1);
        }

        assertThat(read.describe(2)).containsExactly("a at agora.ledger.entries-1@1, agora.ledger.entries-2@1",
                "b at agora.ledger.entries-1@1, agora.ledger.entries-2@1");
    }
}
