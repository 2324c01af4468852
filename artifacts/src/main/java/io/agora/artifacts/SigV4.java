package io.agora.artifacts;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * AWS Signature Version 4 for S3 requests (header form, path given, no query), as every
 * S3-compatible service checks it. Pure: the same inputs give the same Authorization header, which
 * {@code SigV4Test} pins to the examples of the S3 documentation.
 */
final class SigV4 {
    static final String UNSIGNED = "UNSIGNED-PAYLOAD";
    private final String accessKey;
    private final String secretKey;
    private final String region;

    SigV4(String accessKey, String secretKey, String region) {
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        this.region = region;
    }

    /**
     * The Authorization header of a request. {@code headers} are the signed headers (host,
     * x-amz-date and x-amz-content-sha256 among them), {@code amzDate} as {@code yyyyMMdd'T'HHmmss'Z'}.
     */
    String authorization(String method, String canonicalPath, Map<String, String> headers, String payloadSha256,
                         String amzDate) {
        Map<String, String> canon = new TreeMap<>();
        headers.forEach((k, v) -> canon.put(k.toLowerCase(Locale.ROOT), v.trim().replaceAll(" +", " ")));
        String signedHeaders = String.join(";", canon.keySet());
        String canonicalRequest = method + "\n" + canonicalPath + "\n" + "" + "\n"
                + canon.entrySet().stream().map(e -> e.getKey() + ":" + e.getValue() + "\n").collect(Collectors.joining())
                + "\n" + signedHeaders + "\n" + payloadSha256;
        String date = amzDate.substring(0, 8);
        String scope = date + "/" + region + "/s3/aws4_request";
        String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n"
                + Sha256.hex(canonicalRequest.getBytes(StandardCharsets.UTF_8));
        byte[] key = hmac(("AWS4" + secretKey).getBytes(StandardCharsets.UTF_8), date);
        key = hmac(key, region);
        key = hmac(key, "s3");
        key = hmac(key, "aws4_request");
        String signature = HexFormat.of().formatHex(hmac(key, toSign));
        return "AWS4-HMAC-SHA256 Credential=" + accessKey + "/" + scope + ",SignedHeaders=" + signedHeaders
                + ",Signature=" + signature;
    }

    /** The Host header the JDK's HttpClient sends for {@code uri}. */
    static String host(URI uri) {
        return uri.getPort() == -1 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
    }

    /** A path with each segment URI-encoded as SigV4 wants (unreserved characters kept, '/' between segments). */
    static String encodePath(String path) {
        StringBuilder sb = new StringBuilder();
        for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
                sb.append(c);
            } else {
                sb.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return sb.toString();
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
