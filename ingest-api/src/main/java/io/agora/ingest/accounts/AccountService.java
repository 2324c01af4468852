package io.agora.ingest.accounts;

import io.agora.events.EntryKind;
import io.agora.events.LedgerEntry;
import io.agora.events.Posting;
import io.agora.ingest.market.MarketProducer;
import io.agora.ingest.market.ReadModel;
import io.agora.market.Accounts;
import io.agora.market.MarketRules;
import io.agora.market.Postings;
import io.agora.schemas.Topics;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import jakarta.inject.Singleton;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;

/** Balances, statements and earnings from the ledger projection, and deposits into the ledger topic. */
@Singleton
public class AccountService {
    private final ReadModel readModel;
    private final MarketProducer producer;
    private final long starterGrantMicros;
    private final Clock clock = Clock.systemUTC();

    public AccountService(ReadModel readModel, MarketProducer producer, MarketRules rules) {
        this.readModel = readModel;
        this.producer = producer;
        this.starterGrantMicros = rules.starterGrantMicros();
    }

    public Balance balance(String clientId) {
        var bal = readModel.balance(Accounts.client(clientId));
        long held = readModel.held(clientId);
        long balance = bal.orElse(0L);
        return new Balance(clientId, balance, held, bal.isPresent() ? balance : starterGrantMicros,
                bal.isEmpty() ? starterGrantMicros : null);
    }

    public Statement transactions(String clientId, int limit, int offset) {
        int l = Math.max(1, Math.min(limit, 500));
        int o = Math.max(0, offset);
        return new Statement(clientId, readModel.transactions(clientId, l, o), l, o, readModel.countTransactions(clientId));
    }

    public Earnings earnings(String workerId) {
        Instant now = clock.instant();
        Instant today = LocalDate.ofInstant(now, ZoneOffset.UTC).atStartOfDay().toInstant(ZoneOffset.UTC);
        return new Earnings(workerId, readModel.earnedSince(workerId, today),
                readModel.earnedSince(workerId, now.minus(7, ChronoUnit.DAYS)),
                readModel.earnedSince(workerId, now.minus(30, ChronoUnit.DAYS)),
                readModel.earnedSince(workerId, null), readModel.balance(Accounts.worker(workerId)).orElse(0L),
                readModel.balance(Accounts.stake(workerId)).orElse(0L));
    }

    /** A worker's own credits and its bonded stake (market's {@code Stake}), as the ledger projection has them. */
    public Worker worker(String workerId) {
        return new Worker(workerId, readModel.balance(Accounts.worker(workerId)).orElse(0L),
                readModel.balance(Accounts.stake(workerId)).orElse(0L));
    }

    /**
     * Posts a DEPOSIT (mint:deposits −d, client:c +d) keyed by the client; returns the entry produced.
     * {@code depositId} (the operator's Idempotency-Key, or a fresh id when none was sent) names the
     * deposit: a retry with the same id is the same transaction, which the ledger books once.
     */
    public LedgerEntry deposit(String clientId, String depositId, long amountMicros, @Nullable String memo) {
        LedgerEntry entry = Postings.deposit(clientId, depositId, amountMicros, memo, clock.millis());
        producer.send(Topics.LEDGER, clientId, entry);
        return entry;
    }

    /**
     * @param pendingStarterGrantMicros set when the client has no account yet: what admission will grant it
     */
    @Serdeable
    public record Balance(String clientId, long balanceMicros, long heldMicros, long availableMicros,
                          @Nullable Long pendingStarterGrantMicros) {
    }

    @Serdeable
    public record Statement(String clientId, List<ReadModel.Transaction> transactions, int limit, int offset, long total) {
    }

    /**
     * @param balanceMicros credits of {@code worker:<id>}, free to bond
     * @param stakeMicros   bonded: balance of {@code stake:<id>} (an unbond waiting out its cool-down included)
     */
    @Serdeable
    public record Worker(String workerId, long balanceMicros, long stakeMicros) {
    }

    @Serdeable
    public record Earnings(String workerId, long todayMicros, long weekMicros, long monthMicros, long totalMicros,
                           long balanceMicros, long stakeMicros) {
    }
}
