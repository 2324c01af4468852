package io.agora.schemas;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The earlier schemas of the records, events and state ({@code src/main/resources/avro-history}), so that
 * plain Avro written by an earlier build can still be read: by the fingerprint in its
 * single-object header, or, for records written before the header, with the record's version 1
 * (its schema when the header was introduced).
 */
public final class SchemaHistory {
    private static final String DIR = "/avro-history/";
    private static final Map<String, List<Schema>> BY_NAME = load();

    private SchemaHistory() {
    }

    /** The earlier schemas of a record, oldest first; empty when it never changed. */
    public static List<Schema> of(String fullName) {
        return BY_NAME.getOrDefault(fullName, List.of());
    }

    /** The schema bare (headerless) records of this type were written with: version 1 if any, else the current one. */
    public static Schema headerless(Schema current) {
        List<Schema> earlier = of(current.getFullName());
        return earlier.isEmpty() ? current : earlier.get(0);
    }

    public static long fingerprint(Schema s) {
        return SchemaNormalization.parsingFingerprint64(s);
    }

    private static Map<String, List<Schema>> load() {
        Map<String, List<Schema>> out = new HashMap<>();
        try (InputStream index = SchemaHistory.class.getResourceAsStream(DIR + "index.txt")) {
            if (index == null) {
                return Map.of();
            }
            BufferedReader lines = new BufferedReader(new InputStreamReader(index, StandardCharsets.UTF_8));
            String file;
            while ((file = lines.readLine()) != null) {
                file = file.strip();
                if (file.isEmpty() || file.startsWith("#")) {
                    continue;
                }
                try (InputStream in = SchemaHistory.class.getResourceAsStream(DIR + file)) {
                    if (in == null) {
                        throw new IllegalStateException("avro-history/index.txt names a missing file: " + file);
                    }
                    Schema s = new Schema.Parser().parse(in);
                    out.computeIfAbsent(s.getFullName(), k -> new ArrayList<>()).add(s);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the schema history", e);
        }
        out.replaceAll((k, v) -> Collections.unmodifiableList(v));
        return Map.copyOf(out);
    }
}
