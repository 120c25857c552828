// The plan: every knob from the environment, with working defaults, k6-style durations and
// a message naming the knob that is missing or wrong.
import { describe, expect, it } from 'vitest';
import { parseDurationSeconds, planFrom, subscriberToken } from './plan.js';

const env = { TOKEN: 't', METRICS_URL: 'http://m:9464/metrics' };

describe('the plan', () => {
  it('has working defaults, reads every knob and takes k6-style durations', () => {
    const plan = planFrom(env);
    expect(plan).toMatchObject({
      baseUrl: 'http://127.0.0.1:4001',
      metricsUrls: ['http://m:9464/metrics'],
      subscriberTokens: ['t'],
      producerToken: 't',
      matchId: 'loadtest',
      fastSubscribers: 50,
      slowSubscribers: 2,
      rate: 50,
      durationSeconds: 60,
      payloadBytes: 16384,
      slowPauseSeconds: 30,
    });
    const custom = planFrom({
      ...env,
      BASE_URL: 'http://svc:4001/',
      METRICS_URL: 'http://a/metrics, http://b/metrics',
      TOKENS: 'x,y',
      PRODUCER_TOKEN: 'p',
      VUS: '3',
      SLOW_VUS: '0',
      RATE: '2.5',
      DURATION: '1m30s',
      SLOW_PAUSE: '500ms',
    });
    expect(custom).toMatchObject({
      baseUrl: 'http://svc:4001',
      metricsUrls: ['http://a/metrics', 'http://b/metrics'],
      subscriberTokens: ['x', 'y'],
    });
    expect(custom).toMatchObject({
      producerToken: 'p',
      fastSubscribers: 3,
      slowSubscribers: 0,
      rate: 2.5,
      durationSeconds: 90,
      slowPauseSeconds: 0.5,
    });
    expect([0, 1, 2, 3].map((n) => subscriberToken(custom, n))).toEqual(['x', 'y', 'x', 'y']);
    expect(parseDurationSeconds('2h')).toBe(7200);
    expect(parseDurationSeconds('45')).toBe(45);
  });

  it('names the knob that is missing or wrong', () => {
    expect(() => planFrom({ METRICS_URL: 'http://m/metrics' })).toThrow(/TOKEN is required/);
    expect(() => planFrom({ ...env, VUS: 'many' })).toThrow(/VUS must be a whole number/);
    expect(() => planFrom({ ...env, RATE: '0' })).toThrow(/RATE must be a positive/);
    expect(() => planFrom({ ...env, DURATION: 'soon' })).toThrow(/not a duration/);
    expect(() => planFrom({ ...env, MATCH_ID: 'no spaces' })).toThrow(/MATCH_ID/);
    expect(() => planFrom({ ...env, DURATION: '10s', SLOW_PAUSE: '10s' })).toThrow(
      /SLOW_PAUSE .* shorter than DURATION/,
    );
    expect(() => planFrom({ ...env, DURATION: '10s', SLOW_PAUSE: '10s', SLOW_VUS: '0' })).not.toThrow();
  });
});
