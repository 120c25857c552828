// The checks k6 makes through thresholds on its own metrics (publish failures, stream
// errors, time to first event), as verdicts, for a runner without k6's threshold engine.
// loadtest/sse.js declares the same limits as thresholds.

/**
 * @typedef {import('./verdict.js').Verdict} Verdict
 * @typedef {import('./summary.js').Timing} Timing
 */

/**
 * @param {{ publishFailures: number, streamErrors: number, timeToFirstEventMs: Timing | null, ttfeP95Ms: number }} facts
 * @returns {Verdict[]}
 */
export function runnerChecks(facts) {
  const ttfe = facts.timeToFirstEventMs;
  return [
    {
      rule: 'no_publish_failures',
      ok: facts.publishFailures === 0,
      detail: `${facts.publishFailures} publishes failed`,
    },
    {
      rule: 'no_stream_errors',
      ok: facts.streamErrors === 0,
      detail: `${facts.streamErrors} streams failed or ended early`,
    },
    {
      rule: 'time_to_first_event',
      ok: ttfe !== null && ttfe.p95 < facts.ttfeP95Ms,
      detail:
        ttfe === null ? 'no subscriber saw an event' : `p95 ${ttfe.p95.toFixed(0)} ms (limit ${facts.ttfeP95Ms} ms)`,
    },
  ];
}
