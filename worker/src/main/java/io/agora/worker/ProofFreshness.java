package io.agora.worker;

import io.agora.market.PohChallenge;
import io.agora.market.ProofOfHardware;

/**
 * When the host's proof of hardware must be made again, from a new market challenge, before a registration is
 * sent. The matcher trusts a proof only when it arrives within {@link PohChallenge#WINDOW_MS} of its challenge's
 * issue, and trusts at most its steps over that time ({@link PohChallenge#boundedScore}), so an old proof is
 * refused or scored down: a registration carries a proof whose challenge was asked at most {@link #MAX_AGE_MS}
 * before, and, when the market is known to answer, one answering the market's challenge (not a local seed).
 */
final class ProofFreshness {
    /** The oldest challenge a registration is sent with: a quarter of the market's window, room for a slow send. */
    static final long MAX_AGE_MS = PohChallenge.WINDOW_MS / 4;

    private ProofFreshness() {
    }

    /** Whether {@code proof}, its challenge asked {@code ageMs} ago, must be made again before registering. */
    static boolean renew(ProofOfHardware.Proof proof, long ageMs, boolean marketChallengeWanted) {
        return proof == null || ageMs > MAX_AGE_MS || ageMs < 0
                || (marketChallengeWanted && PohChallenge.parse(proof.seed()) == null);
    }

    /** Whether a registration answering {@code seed} that the broker appended at {@code arrivalMs} is past its window. */
    static boolean staleOnArrival(String seed, long arrivalMs) {
        PohChallenge.Parsed c = PohChallenge.parse(seed);
        return c != null && arrivalMs >= 0 && arrivalMs - c.issuedAt() > PohChallenge.WINDOW_MS;
    }
}
