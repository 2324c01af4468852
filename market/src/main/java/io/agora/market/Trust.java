package io.agora.market;

/**
 * How far the market trusts a worker, from its reputation: a logistic curve, so a newcomer
 * (reputation 0) is trusted 0.5, every good verdict moves it up with diminishing effect, and
 * the result always stays inside [0, 1].
 */
public final class Trust {
    /** Reputation points that move trust from 0.5 to about 0.73. */
    public static final double SCALE = 50.0;

    private Trust() {
    }

    public static double of(long reputation) {
        double t = 1.0 / (1.0 + Math.exp(-(reputation / SCALE)));
        return Math.max(0.0, Math.min(1.0, t));
    }
}
