package io.agora.infra.chaos;

/**
 * The rate a chaos run should submit at, from a calibration without faults: what the machine
 * completed per second, less what the faults take. Each fault stalls placements for a while (a
 * killed matcher's pools move in 10-35 s, a broker's leaders in about 25 s, a stopped registry or
 * database for its outage), so a run at the calibrated rate itself would queue faster than it
 * drains and its jobs would expire by queue timeout: that is capacity, not a fault of the market.
 */
final class Calibration {
    /** The share of the calibrated completions per second a run submits at. */
    static final double SUSTAINED_SHARE = 0.5;
    /** The lowest rate recommended (a machine that completed nothing still gets a run). */
    static final double MIN_RATE = 0.1;

    private Calibration() {
    }

    /** {@link #SUSTAINED_SHARE} of {@code completed} jobs over {@code seconds}, down to a tenth, at least {@link #MIN_RATE}. */
    static double recommendedRate(int completed, double seconds) {
        if (seconds <= 0) {
            return MIN_RATE;
        }
        double rate = Math.floor(SUSTAINED_SHARE * completed / seconds * 10) / 10;
        return Math.max(MIN_RATE, rate);
    }
}
