package io.agora.schemas;

import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Registers the schema of every catalogue topic's values ({@code <topic>-value}, what the serdes
 * look up) with the schema registry, as the registry's owner: the registry's gate
 * ({@link RegistryGate}) takes writes only with a writer's credentials
 * ({@code AGORA_REGISTRY_USERNAME}, {@code _PASSWORD}), and every service and worker runs with
 * {@code AGORA_REGISTRY_AUTO_REGISTER=false}, looking schemas up only. An unchanged schema is
 * returned as it is; a changed one becomes the subject's next version if the registry's BACKWARD
 * rule accepts it, else the step fails with the registry's answer. Safe to run on every start.
 */
public final class SchemaSetup {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private SchemaSetup() {
    }

    /** Subject -> schema, for every topic whose values are Avro records. */
    public static Map<String, Schema> subjects() {
        Map<String, Schema> out = new LinkedHashMap<>();
        for (TopicSpec<?, ?> t : Topics.all()) {
            if (SpecificRecord.class.isAssignableFrom(t.valueType())) {
                out.put(t.name() + "-value", SpecificData.get().getSchema(t.valueType()));
            }
        }
        return out;
    }

    /** Registers every subject at {@code registryUrl} (Apicurio v2 API base) with HTTP Basic credentials. */
    public static void register(String registryUrl, String user, String password) throws Exception {
        String auth = user == null ? null
                : "Basic " + Base64.getEncoder().encodeToString((user + ":" + (password == null ? "" : password))
                .getBytes(StandardCharsets.UTF_8));
        for (Map.Entry<String, Schema> s : subjects().entrySet()) {
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(registryUrl
                            + "/groups/default/artifacts?ifExists=RETURN_OR_UPDATE"))
                    .timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json")
                    .header("X-Registry-ArtifactId", s.getKey())
                    .header("X-Registry-ArtifactType", "AVRO")
                    .POST(HttpRequest.BodyPublishers.ofString(s.getValue().toString(), StandardCharsets.UTF_8));
            if (auth != null) {
                req.header("Authorization", auth);
            }
            HttpResponse<String> r = HTTP.send(req.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) {
                throw new IllegalStateException("registering " + s.getKey() + " at " + registryUrl + ": HTTP "
                        + r.statusCode() + " " + r.body());
            }
        }
    }

    public static void main(String[] args) throws Exception {
        AgoraConfig cfg = AgoraConfig.load(Map.of());
        String url = args.length > 0 ? args[0] : cfg.registryUrl();
        register(url, cfg.find(AgoraSerdes.USERNAME).filter(u -> !u.isBlank()).orElse(null),
                cfg.find(AgoraSerdes.PASSWORD).orElse(null));
        System.out.println("schemas registered at " + url + ": " + subjects().size());
    }
}
