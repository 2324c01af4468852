package io.agora.cli;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exit codes of every {@code agora} command, and which failure gives which. Listed once here;
 * {@code --help} of each command prints this list.
 */
final class Exit {
    static final int OK = 0;
    /** The job ended other than COMPLETED (or did not end), the audit found differences, or an unexpected error. */
    static final int NOT_COMPLETED = 1;
    /** Bad flags or arguments, or an unreadable spec file: picocli's own usage code. */
    static final int USAGE = 2;
    /** The API refused the request (HTTP 4xx): fix the request, retrying will not help. */
    static final int API_REFUSED = 3;
    /** The API could not be reached or failed (HTTP 5xx): retrying later may help. */
    static final int API_UNAVAILABLE = 4;

    private Exit() {
    }

    static Map<String, String> descriptions() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(String.valueOf(OK), "ok (a waited-for job COMPLETED)");
        m.put(String.valueOf(NOT_COMPLETED), "the job ended otherwise (FAILED, NO_CONSENSUS, ...), audit findings, or an unexpected error");
        m.put(String.valueOf(USAGE), "usage: bad flags or arguments, unreadable spec file");
        m.put(String.valueOf(API_REFUSED), "the API refused the request (HTTP 4xx: invalid, unauthorised, not found)");
        m.put(String.valueOf(API_UNAVAILABLE), "the API is unreachable or failed (HTTP 5xx, connection refused, timeout)");
        return m;
    }

    /** The code for an exception a command threw. */
    static int of(Exception e) {
        if (e instanceof ApiClient.ApiError api) {
            return api.status >= 500 ? API_UNAVAILABLE : API_REFUSED;
        }
        if (e instanceof IOException) {
            return API_UNAVAILABLE;
        }
        return NOT_COMPLETED;
    }

    /** The code for a job's final status. */
    static int ofStatus(String status) {
        return "COMPLETED".equalsIgnoreCase(status) ? OK : NOT_COMPLETED;
    }
}
