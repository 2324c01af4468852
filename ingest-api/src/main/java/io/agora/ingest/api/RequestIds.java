package io.agora.ingest.api;

import io.micronaut.core.propagation.MutablePropagatedContext;
import io.micronaut.context.propagation.slf4j.MdcPropagationContext;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;
import org.slf4j.MDC;

import java.util.UUID;

/**
 * Every call's {@code X-Request-Id}: the caller's when it has the shape of an id ({@link PathIds}),
 * else a new UUID. It is echoed on the answer, named in problem details and put in the log MDC
 * as {@code requestId} for the whole handling of the call (on whichever thread runs it).
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
public class RequestIds {
    public static final String HEADER = "X-Request-Id";
    public static final String MDC_KEY = "requestId";
    private static final String ATTRIBUTE = "agora.requestId";

    /** The caller's id if usable, else a new one. */
    public static String choose(String offered) {
        return PathIds.valid(offered) ? offered : UUID.randomUUID().toString();
    }

    /** The id given to this request, or null outside a request. */
    public static String of(HttpRequest<?> request) {
        return request == null ? null : request.getAttribute(ATTRIBUTE, String.class).orElse(null);
    }

    @RequestFilter
    public void assign(HttpRequest<?> request, MutablePropagatedContext context) {
        String id = choose(request.getHeaders().get(HEADER));
        request.setAttribute(ATTRIBUTE, id);
        MDC.put(MDC_KEY, id);
        try {
            context.add(new MdcPropagationContext());
        } finally {
            MDC.remove(MDC_KEY);
        }
    }

    @ResponseFilter
    public void echo(HttpRequest<?> request, MutableHttpResponse<?> response) {
        String id = of(request);
        if (id != null) {
            response.getHeaders().set(HEADER, id);
        }
    }
}
