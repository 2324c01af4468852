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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Registers the schema of every catalogue topic's values ({@code <topic>-value}, what the serdes
 * look up) with the schema registry, as the registry's owner: the registry's gate
 * ({@link RegistryGate}) takes writes only with a writer's credentials
 * ({@code AGORA_REGISTRY_USERNAME}, {@code _PASSWORD}), and every service and worker runs with
 * {@code AGORA_REGISTRY_AUTO_REGISTER=false}, looking schemas up only. An unchanged schema is
 * returned as it is; a changed one becomes the subject's next version if the registry's BACKWARD
 * rule accepts it, else the step fails with the registry's answer. Safe to run on every start, and by
 * several at once (see {@link #register(String, String, String, Map)}).
 */
public final class SchemaSetup {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** A registration answered 409 (another registrant's at the same moment) is asked again up to this often. */
    static final int CONFLICT_ATTEMPTS = 10;
    private static final Pattern VERSION = Pattern.compile("\"version\"\\s*:\\s*\"([^\"]*)\"");

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
        register(registryUrl, user, password, subjects());
    }

    /**
     * Registers each subject's schema and returns the version the registry holds it as, by subject.
     * Several registrants at once (stacks starting together, an upgrade rolled out on two hosts) race:
     * the registry answers 409 to all but one of those that create the same new version or artifact
     * (VersionAlreadyExistsException, ArtifactAlreadyExistsException). That is success: the schema is
     * there, so the request is asked again, which finds and returns the registered version (the registry does
     * not serialise its check and its write, so racing registrants may also leave more than one version of the
     * same content: harmless, every one decodes the same records). Any other
     * refusal (a BACKWARD-incompatible schema, a missing credential) fails with the registry's answer.
     */
    public static Map<String, String> register(String registryUrl, String user, String password,
                                               Map<String, Schema> schemas) throws Exception {
        String auth = user == null ? null
                : "Basic " + Base64.getEncoder().encodeToString((user + ":" + (password == null ? "" : password))
                .getBytes(StandardCharsets.UTF_8));
        Map<String, String> versions = new LinkedHashMap<>();
        for (Map.Entry<String, Schema> s : schemas.entrySet()) {
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
            for (int attempt = 1; r.statusCode() == 409 && attempt < CONFLICT_ATTEMPTS; attempt++) {
                Thread.sleep(50L * attempt); // the other registrant's version is being committed
                r = HTTP.send(req.build(), HttpResponse.BodyHandlers.ofString());
            }
            if (r.statusCode() / 100 != 2) {
                throw new IllegalStateException("registering " + s.getKey() + " at " + registryUrl + ": HTTP "
                        + r.statusCode() + " " + r.body());
            }
            Matcher version = VERSION.matcher(r.body());
            versions.put(s.getKey(), version.find() ? version.group(1) : "?");
        }
        return versions;
    }

    public static void main(String[] args) throws Exception {
        AgoraConfig cfg = AgoraConfig.load(Map.of());
        String url = args.length > 0 ? args[0] : cfg.registryUrl();
        register(url, cfg.find(AgoraSerdes.USERNAME).filter(u -> !u.isBlank()).orElse(null),
                cfg.find(AgoraSerdes.PASSWORD).orElse(null));
        System.out.println("schemas registered at " + url + ": " + subjects().size());
    }
}
