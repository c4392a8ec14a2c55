// How long a test waits for something that must happen before it calls it a hang.
//
// A deadline in a test only catches a hang: it never measures speed (figures live in
// bench/ and the README). So it sits far beyond what a working server takes on a busy
// machine: the slowest waits that work (a job of a few seconds, with two CPU hogs and
// another test file sharing two cores) take a few seconds, a small fraction of this.
// Tests whose whole run could approach it set their own, larger test timeout.

/** The deadline of every wait in the tests: 120 s. */
export const HANG_MS = 120_000;

/**
 * The timeout of a whole test, where one is set: 300 s, beyond its waits' own HANG_MS.
 * Beside two CPU hogs the longest of these tests that works took 43 s (clients flooding a
 * server without reading).
 * Tests that run many rounds (kill -9 at 40 moments, fuzzing, cut points) set more.
 */
export const TEST_HANG_MS = 300_000;
