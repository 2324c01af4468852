package io.agora.ingest.api;

import io.micronaut.json.JsonMapper;
import io.micronaut.json.tree.JsonNode;

import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads a JSON body into a request record without the serializer's coercions: {@code "image": 0}
 * is not the string "0", {@code "memoryMb": "64"} is not 64, {@code "memoryMb": 1.5} is not 1.
 * Each field whose JSON type differs from the record's is a {@link Problem}; all of them are
 * reported together, as the other request rules are. Fields the record does not have are ignored.
 */
public final class StrictJson {
    private StrictJson() {
    }

    /** The record read from {@code body}, or a 400 listing every field of the wrong JSON type. */
    public static <T extends Record> T read(JsonMapper mapper, JsonNode body, Class<T> type) {
        if (body == null || body.isNull()) {
            throw new ApiException(io.micronaut.http.HttpStatus.BAD_REQUEST, "request body is required: a JSON object");
        }
        List<Problem> problems = problems(body, type);
        if (!problems.isEmpty()) {
            throw ApiException.invalid(problems);
        }
        try {
            return mapper.readValueFromTree(body, type);
        } catch (IOException e) {
            throw ApiException.invalid(List.of(new Problem(null, "malformed request body: " + e.getMessage())));
        }
    }

    /** Every field of {@code body} whose JSON type is not the one {@code type} declares. */
    public static List<Problem> problems(JsonNode body, Class<? extends Record> type) {
        List<Problem> p = new ArrayList<>();
        if (!body.isObject()) {
            p.add(new Problem(null, "must be a JSON object"));
        } else {
            object(p, "", body, type);
        }
        return p;
    }

    private static void object(List<Problem> p, String prefix, JsonNode node, Class<?> type) {
        for (RecordComponent c : type.getRecordComponents()) {
            JsonNode v = node.get(c.getName());
            if (v != null && !v.isNull()) {
                value(p, prefix + c.getName(), v, c.getGenericType());
            }
        }
    }

    private static void value(List<Problem> p, String field, JsonNode v, Type type) {
        Class<?> raw = type instanceof ParameterizedType pt ? (Class<?>) pt.getRawType() : (Class<?>) type;
        if (raw == String.class) {
            expect(p, field, v.isString(), "must be a string");
        } else if (raw == Integer.class || raw == int.class) {
            expect(p, field, integral(v) && fits(v, Integer.MIN_VALUE, Integer.MAX_VALUE), "must be an integer (32 bits)");
        } else if (raw == Long.class || raw == long.class) {
            expect(p, field, integral(v) && fits(v, Long.MIN_VALUE, Long.MAX_VALUE), "must be an integer (64 bits)");
        } else if (raw == Double.class || raw == double.class) {
            expect(p, field, v.isNumber(), "must be a number");
        } else if (raw == Boolean.class || raw == boolean.class) {
            expect(p, field, v.isBoolean(), "must be true or false");
        } else if (List.class.isAssignableFrom(raw)) {
            if (expect(p, field, v.isArray(), "must be an array")) {
                Type element = ((ParameterizedType) type).getActualTypeArguments()[0];
                int i = 0;
                for (JsonNode e : v.values()) {
                    if (!e.isNull()) {
                        value(p, field + "[" + i + "]", e, element);
                    }
                    i++;
                }
            }
        } else if (Map.class.isAssignableFrom(raw)) {
            if (expect(p, field, v.isObject(), "must be an object")) {
                Type valueType = ((ParameterizedType) type).getActualTypeArguments()[1];
                for (Map.Entry<String, JsonNode> e : v.entries()) {
                    if (!e.getValue().isNull()) {
                        value(p, field + "." + e.getKey(), e.getValue(), valueType);
                    }
                }
            }
        } else if (raw.isRecord()) {
            if (expect(p, field, v.isObject(), "must be an object")) {
                object(p, field + ".", v, raw);
            }
        }
    }

    private static boolean expect(List<Problem> p, String field, boolean ok, String message) {
        if (!ok) {
            p.add(new Problem(field, message));
        }
        return ok;
    }

    private static boolean integral(JsonNode v) {
        if (!v.isNumber()) {
            return false;
        }
        Number n = v.getNumberValue();
        return n instanceof Integer || n instanceof Long || n instanceof BigInteger || n instanceof Short || n instanceof Byte;
    }

    private static boolean fits(JsonNode v, long min, long max) {
        BigInteger n = v.getBigIntegerValue();
        return n.compareTo(BigInteger.valueOf(min)) >= 0 && n.compareTo(BigInteger.valueOf(max)) <= 0;
    }
}
