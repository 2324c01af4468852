package io.agora.market;

import io.agora.events.EntryKind;
import io.agora.events.LedgerEntry;
import io.agora.events.Posting;
import io.agora.schemas.AgoraConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StakeTest {
    private static final Duration COOL_DOWN = Duration.ofHours(1);

    @Test
    void bondTakesOnlyWhatTheWorkerHasAndTheRestStaysAvailable() {
        Stake.Account a = Stake.Account.NEW.credit(3_000);
        Stake.Change c = Stake.request(a, 5_000, 1, 0, COOL_DOWN);
        assertEquals(3_000, c.bondMicros(), "a bond never exceeds the worker's credits");
        assertEquals(0, c.account().availableMicros());
        assertEquals(3_000, c.account().effectiveMicros());

        Stake.Change more = Stake.request(c.account().credit(4_000), 5_000, 2, 0, COOL_DOWN);
        assertEquals(2_000, more.bondMicros());
        assertEquals(2_000, more.account().availableMicros());
        assertEquals(5_000, more.account().bondedMicros());
    }

    @Test
    void unbondWaitsOutTheCoolDownAndStaysSlashableMeanwhile() {
        Stake.Account bonded = Stake.request(Stake.Account.NEW.credit(5_000), 5_000, 1, 0, COOL_DOWN).account();
        Stake.Change unbond = Stake.request(bonded, 1_000, 2, 10, COOL_DOWN);
        assertNull(unbond.refused());
        assertEquals(0, unbond.bondMicros());
        assertEquals(1_000, unbond.account().effectiveMicros());
        assertEquals(5_000, unbond.account().bondedMicros(), "unbonding credits stay in the stake account");

        assertEquals(0, Stake.due(unbond.account(), 10 + COOL_DOWN.toMillis() - 1).unstakeMicros());
        Stake.Return r = Stake.due(unbond.account(), 10 + COOL_DOWN.toMillis());
        assertEquals(4_000, r.unstakeMicros());
        assertEquals(2, r.seq(), "the UNSTAKE is named by the registration that asked for it");
        assertEquals(1_000, r.account().bondedMicros());
        assertEquals(4_000, r.account().availableMicros());
    }

    @Test
    void askingForTheBondBackCancelsAPendingUnbond() {
        Stake.Account bonded = Stake.request(Stake.Account.NEW.credit(5_000), 5_000, 1, 0, COOL_DOWN).account();
        Stake.Account unbonding = Stake.request(bonded, 0, 2, 0, COOL_DOWN).account();
        Stake.Change again = Stake.request(unbonding, 5_000, 3, 1, COOL_DOWN);
        assertEquals(0, again.bondMicros(), "the unbonding credits are kept, nothing new is bonded");
        assertEquals(5_000, again.account().effectiveMicros());
        assertEquals(0, Stake.due(again.account(), Long.MAX_VALUE).unstakeMicros());
    }

    @Test
    void anUnbondDuringAnOpenDisputeIsRefusedAndADueOneWaitsForTheDisputesEnd() {
        Stake.Account bonded = Stake.request(Stake.Account.NEW.credit(5_000), 5_000, 1, 0, COOL_DOWN).account();
        Stake.Account disputed = bonded.lock("job-1");
        Stake.Change refused = Stake.request(disputed, 0, 2, 0, COOL_DOWN);
        assertNotNull(refused.refused());
        assertTrue(refused.refused().contains("job-1"), refused.refused());
        assertEquals(5_000, refused.account().effectiveMicros());

        Stake.Account unbonding = Stake.request(bonded, 0, 2, 0, COOL_DOWN).account().lock("job-2");
        assertEquals(0, Stake.due(unbonding, COOL_DOWN.toMillis()).unstakeMicros(), "no return while a dispute is open");
        assertEquals(5_000, Stake.due(unbonding.release("job-2"), COOL_DOWN.toMillis()).unstakeMicros());
    }

    @Test
    void anUnbondAskedAfterTheDisputeOpenedIsRefusedWhicheverTheGateReadsFirst() {
        Stake.Account bonded = Stake.request(Stake.Account.NEW.credit(5_000), 5_000, 1, 0, COOL_DOWN).account();
        long opened = 1_000;
        // the dispute first: the unbond asked after it is refused
        Stake.Change first = Stake.request(Stake.lock(bonded, "job-1", opened, COOL_DOWN).account(), 0, 2, 1_500, COOL_DOWN);
        // the unbond first (asked at 1,500, read before the LOCK of the dispute opened at 1,000): refused by the LOCK
        Stake.Change late = Stake.lock(Stake.request(bonded, 0, 2, 1_500, COOL_DOWN).account(), "job-1", opened, COOL_DOWN);
        for (Stake.Change c : java.util.List.of(first, late)) {
            assertEquals("unbond refused: an open dispute names the worker (job job-1)", c.refused());
            assertEquals(5_000, c.account().effectiveMicros(), "the bond stays");
            assertEquals(0, c.account().unbondingMicros());
            assertEquals(java.util.Set.of("job-1"), c.account().disputes());
        }
        // an unbond asked before the dispute opened is not refused: it waits for the dispute's end
        Stake.Change earlier = Stake.lock(Stake.request(bonded, 0, 2, 500, COOL_DOWN).account(), "job-1", opened, COOL_DOWN);
        assertNull(earlier.refused());
        assertEquals(5_000, earlier.account().unbondingMicros());
        assertEquals(0, Stake.due(earlier.account(), Long.MAX_VALUE).unstakeMicros());
    }

    @Test
    void aSlashMakesTheClientWholeFirstThenSplitsTheRestOfHalfTheBondAsDocumented() {
        Stake.Account a = Stake.request(Stake.Account.NEW.credit(10_000), 10_000, 1, 0, COOL_DOWN).account()
                .credit(300).lock("job-1");
        Stake.Slash s = Stake.slash(a, 500, List.of("h1", "h2", "h3"));
        assertEquals(300, s.reclaimMicros(), "reclaims what the job paid, as far as the worker's credits go");
        assertEquals(5_000, s.slashedMicros());
        // the 200 its credits could not pay back come first out of the 5,000; 40 % of the other 4,800
        assertEquals(200 + 1_920, s.clientMicros());
        assertEquals(300 + s.clientMicros() - 1_920, 500, "the client gets all it paid back");
        assertEquals(Map.of("h1", 640L, "h2", 640L, "h3", 640L), s.honestMicros());
        assertEquals(5_000 - 2_120 - 3 * 640, s.burnedMicros(), "the rest, and the rounding remainder, is burned");

        Stake.Slash small = Stake.slash(Stake.request(Stake.Account.NEW.credit(1_000), 1_000, 1, 0, COOL_DOWN).account(),
                900, List.of("h1"));
        assertEquals(0, small.reclaimMicros());
        assertEquals(500, small.clientMicros(), "a bond too small to cover the payment all goes to the client");
        assertEquals(Map.of(), small.honestMicros());
        assertEquals(0, small.burnedMicros());

        Stake.Account after = Stake.after(a, "job-1", s);
        assertEquals(5_000, after.bondedMicros());
        assertEquals(0, after.availableMicros());
        assertTrue(after.disputes().isEmpty(), "the slash ends the worker's part in the dispute");
    }

    @Test
    void theSlashTransactionBalancesAndBurnsToTheMint() {
        Stake.Account a = Stake.request(Stake.Account.NEW.credit(10_000), 10_000, 1, 0, COOL_DOWN).account().credit(700);
        Stake.Slash s = Stake.slash(a, 700, List.of("h1", "h2"));
        LedgerEntry e = Postings.slash("job-1", "c1", "liar", s, 5);
        assertEquals(EntryKind.SLASH, e.getKind());
        assertEquals("slash:job-1:liar", e.getTransactionId());
        assertEquals(0, e.getPostings().stream().mapToLong(Posting::getAmountMicros).sum(), "balanced");
        Map<String, Long> legs = e.getPostings().stream()
                .collect(Collectors.toMap(Posting::getAccountId, Posting::getAmountMicros));
        assertEquals(Map.of("worker:liar", -700L, "stake:liar", -5_000L, "client:c1", 700L + 2_000L,
                "worker:h1", 1_000L, "worker:h2", 1_000L, Accounts.MINT_SLASHED, 1_000L), legs);
    }

    @Test
    void whatASlashTookPostsTheSameLegsAsTheSlashItself() {
        Stake.Account a = Stake.request(Stake.Account.NEW.credit(10_000), 10_000, 1, 0, COOL_DOWN).account().credit(700);
        Stake.Slash s = Stake.slash(a, 700, List.of("h1", "h2"));
        io.agora.events.SlashTaken t = Postings.taken("liar", s);
        assertEquals(List.of(new io.agora.events.SlashShare("h1", 1_000L), new io.agora.events.SlashShare("h2", 1_000L)),
                t.getHonestShares());
        assertEquals(List.of(700L, 5_000L, 2_000L, 1_000L), List.of(t.getReclaimMicros(), t.getSlashedMicros(),
                t.getClientMicros(), t.getBurnedMicros()));
        assertEquals(Postings.slash("job-1", "c1", "liar", s, 5).getPostings(), Postings.slash("job-1", "c1", t, 5).getPostings());
        Stake.Slash none = Stake.slash(Stake.Account.NEW, 700, List.of("h1"));
        assertTrue(Postings.slash("job-1", "c1", Postings.taken("liar", none), 5).getPostings().isEmpty(),
                "a slash that took nothing posts no leg");
    }

    @Test
    void aBookedSlashReadsBackFromItsLegsAsWhatItTookAndNothingElseDoes() {
        Stake.Account a = Stake.request(Stake.Account.NEW.credit(10_000), 10_000, 1, 0, COOL_DOWN).account().credit(700);
        Stake.Slash s = Stake.slash(a, 700, List.of("h1", "h2"));
        List<Posting> legs = Postings.slash("job-1", "c1", "liar", s, 5).getPostings();
        assertEquals(java.util.Optional.of(Postings.taken("liar", s)), Postings.takenFrom("job-1", "c1", "liar", legs));
        assertEquals(java.util.Optional.of(Postings.taken("liar", Stake.slash(Stake.Account.NEW, 700, List.of("h1")))),
                Postings.takenFrom("job-1", "c1", "liar", List.of()), "no leg: the slash took nothing");
        List<Posting> moved = new java.util.ArrayList<>(legs);
        moved.set(moved.size() - 1, new Posting("mint:grants", moved.get(moved.size() - 1).getAmountMicros()));
        assertTrue(Postings.takenFrom("job-1", "c1", "liar", moved).isEmpty(), "a leg no slash posts");
        assertTrue(Postings.takenFrom("job-1", "c2", "liar", legs).isEmpty(), "another client's");
        assertTrue(Postings.takenFrom("job-1", "c1", "h1", legs).isEmpty(), "another worker's");
        assertTrue(Postings.takenFrom("job-1", "c1", "liar", List.of(new Posting("stake:liar", -10L),
                new Posting(Accounts.MINT_SLASHED, 5L), new Posting("client:c1", 5L), new Posting("worker:liar", 0L))).isEmpty(),
                "legs out of the order and shape posting gives");
    }

    @Test
    void stakeAndUnstakeAreTransfersNamedByTheRegistration() {
        LedgerEntry stake = Postings.stake("w1", 7, 1_000, 0);
        assertEquals("stake:w1:7", stake.getTransactionId());
        assertEquals("w1", stake.getClientId(), "keyed by the worker: no client is concerned");
        assertEquals(List.of(new Posting("worker:w1", -1_000L), new Posting("stake:w1", 1_000L)), stake.getPostings());
        LedgerEntry unstake = Postings.unstake("w1", 8, 1_000, 0);
        assertEquals(EntryKind.UNSTAKE, unstake.getKind());
        assertEquals(List.of(new Posting("stake:w1", -1_000L), new Posting("worker:w1", 1_000L)), unstake.getPostings());
    }

    @Test
    void aPoolsMinimumStakeIsReadFromConfiguration() {
        MarketRules rules = MarketRules.from(AgoraConfig.of(Map.of("agora.pool.open.min.stake.micros", "2500")));
        assertEquals(2_500, rules.minStakeMicros("open"));
        assertEquals(0, rules.minStakeMicros("public"));
    }

    @Test
    void shareNeverOverflows() {
        assertEquals(Long.MAX_VALUE / 2, Stake.share(Long.MAX_VALUE, 5_000));
    }
}
