package io.agora.ingest.api;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.read.ListAppender;
import io.micronaut.context.ApplicationContext;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.runtime.server.EmbeddedServer;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A line logged while a call is handled (on a blocking-pool thread, not the event loop) carries the
 * call's {@code requestId} in its MDC, and the console encoder of {@code logback.xml} prints it.
 * The server runs without its database and broker: nothing in this call reaches them.
 */
class RequestIdLogTest {
    static final String ENV = "request-id-log-test";

    @Requires(env = ENV)
    @Controller("/test/log")
    @ExecuteOn(TaskExecutors.BLOCKING)
    static class Logging {
        @Get
        String log() {
            LoggerFactory.getLogger(RequestIdLogTest.class).info("handling the call");
            return "logged";
        }
    }

    @Test
    void aLineLoggedWhileHandlingACallCarriesItsRequestId() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(RequestIdLogTest.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
        lines.start();
        logger.addAppender(lines);
        try (ApplicationContext context = ApplicationContext.builder(ENV).properties(Map.of(
                "micronaut.server.port", -1,
                "agora.ingest.feeds-enabled", false,
                "agora.dev-mode", 1,
                "datasources.default.initialization-fail-timeout", -1,
                "flyway.datasources.default.enabled", false)).start()) {
            EmbeddedServer server = context.getBean(EmbeddedServer.class).start();
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://localhost:" + server.getPort() + "/test/log"))
                    .header(RequestIds.HEADER, "probe-42").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.body()).isEqualTo("logged");
            assertThat(r.headers().firstValue(RequestIds.HEADER)).contains("probe-42");
        } finally {
            logger.detachAppender(lines);
        }
        ILoggingEvent line = lines.list.stream().filter(e -> e.getFormattedMessage().equals("handling the call"))
                .findFirst().orElseThrow();
        assertThat(line.getThreadName()).doesNotContain("eventloop");
        assertThat(line.getMDCPropertyMap()).containsEntry(RequestIds.MDC_KEY, "probe-42");
        @SuppressWarnings("unchecked")
        ConsoleAppender<ILoggingEvent> stdout = (ConsoleAppender<ILoggingEvent>)
                ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).getAppender("STDOUT");
        assertThat(new String(stdout.getEncoder().encode(line), StandardCharsets.UTF_8))
                .contains("requestId=probe-42").contains("handling the call");
    }
}
