package io.agora.artifacts;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The signatures of the S3 documentation's SigV4 examples ("Signature Calculations for the Authorization Header"). */
class SigV4Test {
    private final SigV4 signer = new SigV4("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1");

    @Test
    void getObjectExample() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Host", "examplebucket.s3.amazonaws.com");
        h.put("Range", "bytes=0-9");
        h.put("x-amz-content-sha256", Sha256.hex(new byte[0]));
        h.put("x-amz-date", "20130524T000000Z");
        assertThat(signer.authorization("GET", "/test.txt", h, Sha256.hex(new byte[0]), "20130524T000000Z"))
                .isEqualTo("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                        + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                        + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    }

    @Test
    void putObjectExampleWithAnEncodedKey() {
        String payload = Sha256.hex("Welcome to Amazon S3.".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Date", "Fri, 24 May 2013 00:00:00 GMT");
        h.put("Host", "examplebucket.s3.amazonaws.com");
        h.put("x-amz-content-sha256", payload);
        h.put("x-amz-date", "20130524T000000Z");
        h.put("x-amz-storage-class", "REDUCED_REDUNDANCY");
        assertThat(SigV4.encodePath("/test$file.text")).isEqualTo("/test%24file.text");
        assertThat(signer.authorization("PUT", SigV4.encodePath("/test$file.text"), h, payload, "20130524T000000Z"))
                .endsWith("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    }
}
