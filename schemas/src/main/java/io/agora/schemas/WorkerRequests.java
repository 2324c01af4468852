package io.agora.schemas;

import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * How a worker proves itself to ingest-api's HTTP endpoints (fetching a job's inputs, uploading
 * the files a replica wrote) without an API key: with the Ed25519 key it signs its results with.
 * Header {@code Authorization: AgoraWorker <workerId>:<timeMs>:<signature>}, the signature
 * (base64url) over {@code "agora-worker-request\n" + METHOD + "\n" + path + "\n" + timeMs}. A
 * signature is good for {@link #MAX_SKEW_MS} either side of the server's clock; it does not cover
 * a body (the files it sends are named by their own hash).
 */
public final class WorkerRequests {
    public static final String SCHEME = "AgoraWorker";
    public static final long MAX_SKEW_MS = 300_000;

    private WorkerRequests() {
    }

    /** The Authorization header value for {@code method path} at {@code nowMs}. */
    public static String authorization(Ed25519PrivateKeyParameters key, String method, String path, long nowMs) {
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, key);
        byte[] msg = message(method, path, nowMs);
        signer.update(msg, 0, msg.length);
        return SCHEME + " " + Signatures.workerId(key) + ":" + nowMs + ":"
                + Base64.getUrlEncoder().withoutPadding().encodeToString(signer.generateSignature());
    }

    /** Whether a header is a worker's (so a client's Bearer key is not looked for). */
    public static boolean isWorker(String authorization) {
        return authorization != null && authorization.startsWith(SCHEME + " ");
    }

    /**
     * The worker id the header proves for {@code method path}, or an {@link IllegalArgumentException}
     * saying why it proves nothing.
     */
    public static String verify(String authorization, String method, String path, long nowMs) {
        if (!isWorker(authorization)) {
            throw new IllegalArgumentException("not an " + SCHEME + " authorization");
        }
        String[] parts = authorization.substring(SCHEME.length() + 1).trim().split(":");
        if (parts.length != 3) {
            throw new IllegalArgumentException(SCHEME + " authorization is <workerId>:<timeMs>:<signature>");
        }
        long at;
        try {
            at = Long.parseLong(parts[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("time is not a number of milliseconds");
        }
        if (Math.abs(nowMs - at) > MAX_SKEW_MS) {
            throw new IllegalArgumentException("signed at " + at + ", more than " + MAX_SKEW_MS
                    + " ms from the server's time " + nowMs);
        }
        try {
            byte[] pub = Base64.getUrlDecoder().decode(parts[0]);
            byte[] sig = Base64.getUrlDecoder().decode(parts[2]);
            if (pub.length != Ed25519PublicKeyParameters.KEY_SIZE) {
                throw new IllegalArgumentException("worker id is not an Ed25519 public key");
            }
            Ed25519Signer v = new Ed25519Signer();
            v.init(false, new Ed25519PublicKeyParameters(pub, 0));
            byte[] msg = message(method, path, at);
            v.update(msg, 0, msg.length);
            if (!v.verifySignature(sig)) {
                throw new IllegalArgumentException("signature does not match " + method + " " + path);
            }
            return parts[0];
        } catch (IllegalArgumentException e) {
            throw e.getMessage() != null && !e.getMessage().startsWith("Illegal base64")
                    ? e : new IllegalArgumentException("worker id or signature is not base64url");
        }
    }

    private static byte[] message(String method, String path, long timeMs) {
        return ("agora-worker-request\n" + method + "\n" + path + "\n" + timeMs).getBytes(StandardCharsets.UTF_8);
    }
}
