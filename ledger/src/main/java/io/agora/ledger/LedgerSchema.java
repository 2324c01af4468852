package io.agora.ledger;

import org.flywaydb.core.Flyway;

import javax.sql.DataSource;
import java.util.regex.Pattern;

/**
 * The sink's PostgreSQL schema, created only by Flyway ({@code db/migration/V*.sql}) in a schema
 * whose name is configuration: the live sink uses {@code agora}, the audit a fresh one.
 */
public final class LedgerSchema {
    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private LedgerSchema() {
    }

    /** Creates or upgrades the tables in {@code schema}; safe to call on every start. */
    public static void migrate(DataSource dataSource, String schema) {
        requireValidName(schema);
        Flyway.configure()
                .dataSource(dataSource)
                .schemas(schema)
                .defaultSchema(schema)
                .createSchemas(true)
                .locations("classpath:db/migration")
                .load()
                .migrate();
    }

    /** Schema names are spliced into SQL, so only plain lower-case identifiers are accepted. */
    public static String requireValidName(String schema) {
        if (schema == null || !NAME.matcher(schema).matches()) {
            throw new IllegalArgumentException("schema name must match " + NAME.pattern() + ", got: " + schema);
        }
        return schema;
    }
}
