package io.agora.ledger;

import io.agora.events.LedgerEntry;
import io.agora.schemas.Topics;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.lang.reflect.Proxy;
import java.net.ConnectException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The sink's transactional handler without a database: a connection that fails on the first
 * statement. A database that is out aborts the batch (the sink retries it, nothing is
 * dead-lettered); only a failure that is the record's own makes it a refused record.
 */
class BatchRecorderOutageTest {
    static final SinkRecord RECORD = new SinkRecord(Topics.LEDGER.name(), 0, 5, new byte[0], new byte[0],
            Events.grant("ann", 1_000));
    static final Map<TopicPartition, Long> NEXT = Map.of(new TopicPartition(Topics.LEDGER.name(), 0), 6L);

    /** A connection whose first statement fails with {@code failure}; later statements do nothing and succeed. */
    static DataSource failingFirstStatement(Supplier<Exception> failure) {
        return failing(failure, false);
    }

    /**
     * A connection whose statements fail with {@code failure}: the first one only, or (with
     * {@code everyPrepared}) every prepared statement that applies a record (not the offsets'), as a
     * record's own fault fails every time it is applied.
     */
    static DataSource failing(Supplier<Exception> failure, boolean everyPrepared) {
        AtomicInteger statements = new AtomicInteger();
        Object quietStatement = Proxy.newProxyInstance(PreparedStatement.class.getClassLoader(),
                new Class<?>[]{PreparedStatement.class}, (p, m, a) -> switch (m.getName()) {
                    case "executeBatch" -> new int[0];
                    case "executeUpdate" -> 1;
                    case "execute" -> false;
                    default -> null;
                });
        Connection c = (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[]{Connection.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "prepareStatement", "createStatement" -> {
                        boolean first = statements.getAndIncrement() == 0;
                        boolean applying = method.getName().equals("prepareStatement")
                                && !String.valueOf(args[0]).contains("consumer_offsets");
                        if (first || (everyPrepared && applying)) {
                            throw failure.get();
                        }
                        yield quietStatement;
                    }
                    case "setSavepoint" -> Proxy.newProxyInstance(Savepoint.class.getClassLoader(), new Class<?>[]{Savepoint.class},
                            (p, m, a) -> null);
                    case "isClosed", "getAutoCommit" -> false;
                    default -> null;
                });
        return new DataSource() {
            @Override
            public Connection getConnection() {
                return c;
            }

            @Override
            public Connection getConnection(String user, String password) {
                return c;
            }

            @Override
            public PrintWriter getLogWriter() {
                return null;
            }

            @Override
            public void setLogWriter(PrintWriter out) {
            }

            @Override
            public void setLoginTimeout(int seconds) {
            }

            @Override
            public int getLoginTimeout() {
                return 0;
            }

            @Override
            public Logger getParentLogger() {
                return Logger.getGlobal();
            }

            @Override
            public <T> T unwrap(Class<T> iface) {
                return null;
            }

            @Override
            public boolean isWrapperFor(Class<?> iface) {
                return false;
            }
        };
    }

    @Test
    void aLostConnectionAbortsTheBatchInsteadOfRefusingTheRecord() {
        BatchRecorder recorder = new BatchRecorder(failingFirstStatement(() -> new SQLException("connection lost", "08006")),
                "agora", "g");
        Throwable t = catchThrowable(() -> recorder.record(List.of(RECORD), NEXT, refused -> {
            throw new AssertionError("nothing may be dead-lettered during an outage: " + refused);
        }));
        assertThat(t).isInstanceOf(SQLException.class).hasMessage("connection lost");
    }

    @Test
    void anOutageBehindARuntimeExceptionAbortsTheBatchToo() {
        BatchRecorder recorder = new BatchRecorder(failingFirstStatement(
                () -> new IllegalStateException("pool", new ConnectException("Connection refused"))), "agora", "g");
        Throwable t = catchThrowable(() -> recorder.record(List.of(RECORD), NEXT, refused -> {
            throw new AssertionError("nothing may be dead-lettered during an outage: " + refused);
        }));
        assertThat(t).isInstanceOf(SQLTransientException.class).hasMessageContaining("outage while applying");
    }

    @Test
    void aFailureThatIsTheRecordsOwnRefusesItAndTheBatchCommits() throws SQLException {
        BatchRecorder recorder = new BatchRecorder(failing(() -> new IllegalArgumentException("no such kind"), true),
                "agora", "g");
        List<BatchRecorder.Refused> dlq = new ArrayList<>();
        BatchRecorder.Result r = recorder.record(List.of(RECORD), NEXT, dlq::addAll);
        assertThat(r.refused()).hasSize(1);
        assertThat(dlq).extracting(BatchRecorder.Refused::reason)
                .containsExactly("cannot apply ledger transaction grant:ann (STARTER_GRANT, event " + ((LedgerEntry) RECORD.event()).getEventId()
                        + "): java.lang.IllegalArgumentException: no such kind");
    }
}
