package io.agora.infra.market;

import io.micronaut.core.type.Argument;
import io.micronaut.json.JsonMapper;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real headless Chromium (Debian's {@code chromium}, installed by {@code agora install-deps})
 * driven over the DevTools protocol with the JDK's WebSocket client: navigate, evaluate script in
 * the page, take screenshots. No browser driver library, no mock of the browser.
 */
final class Chromium implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");
    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final JsonMapper json = JsonMapper.createDefault();
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<Map<String, Object>>> pending = new ConcurrentHashMap<>();

    private Chromium(Process process, Path profile, String pageSocket) throws Exception {
        this.process = process;
        this.profile = profile;
        this.socket = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(URI.create(pageSocket), new Listener()).get(20, TimeUnit.SECONDS);
    }

    static Chromium start(int width, int height) throws Exception {
        Path profile = Files.createTempDirectory("agora-chromium");
        Process p = new ProcessBuilder("chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--remote-debugging-port=0", "--remote-allow-origins=*",
                "--user-data-dir=" + profile, "--window-size=" + width + "," + height, "about:blank")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
        String browserSocket = null;
        for (String line; browserSocket == null && (line = err.readLine()) != null; ) {
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                browserSocket = m.group(1);
            }
        }
        if (browserSocket == null) {
            p.destroyForcibly();
            throw new IllegalStateException("chromium did not open its DevTools port (exit " + p.waitFor() + ")");
        }
        // keep draining its log so that it never blocks on a full pipe
        Thread drain = new Thread(() -> err.lines().forEach(l -> { }), "chromium-stderr");
        drain.setDaemon(true);
        drain.start();
        URI ws = URI.create(browserSocket);
        String list = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://" + ws.getHost() + ":" + ws.getPort() + "/json/list")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        List<Map<String, Object>> targets = JsonMapper.createDefault().readValue(list,
                Argument.listOf(Argument.mapOf(String.class, Object.class)));
        String page = targets.stream().filter(t -> "page".equals(t.get("type")))
                .map(t -> (String) t.get("webSocketDebuggerUrl")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no page target in " + list));
        return new Chromium(p, profile, page);
    }

    /** One DevTools command and its result. */
    Map<String, Object> send(String method, Map<String, Object> params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<Map<String, Object>> answer = new CompletableFuture<>();
        pending.put(id, answer);
        Map<String, Object> msg = new HashMap<>();
        msg.put("id", id);
        msg.put("method", method);
        msg.put("params", params);
        socket.sendText(json.writeValueAsString(msg), true).get(10, TimeUnit.SECONDS);
        Map<String, Object> r = answer.get(30, TimeUnit.SECONDS);
        if (r.containsKey("error")) {
            throw new IllegalStateException(method + ": " + r.get("error"));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> result = (Map<String, Object>) r.get("result");
        return result;
    }

    void open(String url) throws Exception {
        send("Page.navigate", Map.of("url", url));
    }

    /** The value of a script expression in the page (a promise is awaited); script errors are thrown. */
    Object eval(String expression) throws Exception {
        Map<String, Object> r = send("Runtime.evaluate", Map.of("expression", expression, "awaitPromise", true,
                "returnByValue", true));
        if (r.containsKey("exceptionDetails")) {
            throw new IllegalStateException("script failed: " + r.get("exceptionDetails"));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> value = (Map<String, Object>) r.get("result");
        return value.get("value");
    }

    void screenshot(Path file) throws Exception {
        Map<String, Object> r = send("Page.captureScreenshot", Map.of("format", "png"));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, Base64.getDecoder().decode((String) r.get("data")));
    }

    @Override
    public void close() throws Exception {
        try {
            socket.abort();
        } finally {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                try {
                    Map<String, Object> msg = json.readValue(text.toString(), Argument.mapOf(String.class, Object.class));
                    Object id = msg.get("id");
                    if (id instanceof Number n) {
                        CompletableFuture<Map<String, Object>> f = pending.remove(n.intValue());
                        if (f != null) {
                            f.complete(msg);
                        }
                    }
                } catch (Exception e) {
                    pending.values().forEach(f -> f.completeExceptionally(e));
                } finally {
                    text.setLength(0);
                }
            }
            ws.request(1);
            return null;
        }
    }
}
