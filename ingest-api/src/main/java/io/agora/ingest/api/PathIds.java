package io.agora.ingest.api;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The one shape every id in a path takes (job, client, account, worker, key and pool ids): 1 to 128
 * letters, digits, '.', '_', ':' or '-'. Anything else (a NUL byte, a control character, a slash,
 * an over-long id) is refused with a 400 before it reaches the database or a topic.
 */
public final class PathIds {
    public static final int MAX_LENGTH = 128;
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1," + MAX_LENGTH + "}");
    static final String RULE = "must be 1 to " + MAX_LENGTH + " letters, digits, '.', '_', ':' or '-'";

    private PathIds() {
    }

    public static boolean valid(String id) {
        return id != null && ID.matcher(id).matches();
    }

    /** The id itself when it has the shape; else a 400 naming the path variable and the rule. */
    public static String check(String name, String id) {
        if (!valid(id)) {
            throw ApiException.invalid(List.of(new Problem(name, RULE)));
        }
        return id;
    }
}
