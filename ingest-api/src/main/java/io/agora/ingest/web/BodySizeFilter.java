package io.agora.ingest.web;

import io.agora.ingest.api.ApiException;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;

import java.util.List;
import java.util.Map;

/**
 * The server's request size limit ({@code micronaut.server.max-request-size}) is the file
 * upload's; every other body (JSON) is refused with 413 past {@link #MAX_JSON_BODY} by its
 * Content-Length, before it is read.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
public class BodySizeFilter {
    public static final long MAX_JSON_BODY = 1024 * 1024;
    static final String UPLOADS = "/api/v1/files";

    @RequestFilter
    public void limit(HttpRequest<?> request) {
        long length = request.getContentLength();
        if (length > MAX_JSON_BODY && !UPLOADS.equals(request.getPath())) {
            throw new ApiException(HttpStatus.REQUEST_ENTITY_TOO_LARGE, "request body larger than " + MAX_JSON_BODY
                    + " bytes (only file uploads to " + UPLOADS + " may be larger)", List.of(),
                    Map.of("maxBytes", MAX_JSON_BODY), null);
        }
    }
}
