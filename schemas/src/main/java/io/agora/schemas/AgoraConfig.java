package io.agora.schemas;


import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Configuration of a plain Java app: defaults, overridden by environment variables
 * ({@code AGORA_MATCHER_WEIGHT_PRICE} for {@code agora.matcher.weight.price}), overridden by
 * system properties. Typed per-app configs ({@code MatcherConfig.from(cfg)}) read from it.
 */
public final class AgoraConfig implements AgoraConfigView {
    private final Map<String, String> values;

    public AgoraConfig(Map<String, String> values) {
        this.values = Map.copyOf(values);
    }

    /** Configuration keys of environment variables: {@code AGORA_X_Y} is {@code agora.x.y}; others are left out. */
    public static Map<String, String> keysOf(Map<String, String> env) {
        Map<String, String> v = new HashMap<>();
        env.forEach((k, val) -> {
            if (k.startsWith("AGORA_")) {
                v.put(k.toLowerCase(Locale.ROOT).replace('_', '.'), val);
            }
        });
        return v;
    }

    /** Environment and system properties over the given defaults. */
    public static AgoraConfig load(Map<String, String> defaults) {
        Map<String, String> v = new HashMap<>(defaults);
        v.putAll(keysOf(System.getenv()));
        System.getProperties().forEach((k, val) -> {
            if (k.toString().startsWith("agora.")) {
                v.put(k.toString(), val.toString());
            }
        });
        return new AgoraConfig(v);
    }

    public static AgoraConfig of(Map<String, String> values) {
        return new AgoraConfig(values);
    }

    public AgoraConfig with(String key, String value) {
        Map<String, String> v = new HashMap<>(values);
        v.put(key, value);
        return new AgoraConfig(v);
    }

    @Override
    public Map<String, Object> kafkaClientProperties() {
        return KafkaAccess.clientProperties(values);
    }

    public Optional<String> find(String key) {
        return Optional.ofNullable(values.get(key));
    }

    public String get(String key, String def) {
        return values.getOrDefault(key, def);
    }

    public int getInt(String key, int def) {
        String s = values.get(key);
        return s == null ? def : Integer.parseInt(s.trim());
    }

    public long getLong(String key, long def) {
        String s = values.get(key);
        return s == null ? def : Long.parseLong(s.trim());
    }

    public double getDouble(String key, double def) {
        String s = values.get(key);
        return s == null ? def : Double.parseDouble(s.trim());
    }

    public boolean getBoolean(String key, boolean def) {
        String s = values.get(key);
        return s == null ? def : Boolean.parseBoolean(s.trim());
    }

    @Override
    public String bootstrapServers() {
        return get("agora.bootstrap", "localhost:9092");
    }

    @Override
    public String registryUrl() {
        return get("agora.registry.url", "http://localhost:8081/apis/registry/v2");
    }

    /** Folder for local state (streams state dirs, worker keys). */
    public String stateDir() {
        return get("agora.state.dir", System.getProperty("java.io.tmpdir") + "/agora");
    }

    public Map<String, String> asMap() {
        return values;
    }
}
