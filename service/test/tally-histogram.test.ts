// The delivery-latency histogram is our own (metrics/tally-histogram.ts), but Prometheus, the
// dashboards and the cluster primary must not be able to tell it from prom-client's: the same
// exposition for the same observations, summed the same way across workers.
import fc from 'fast-check';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TallyHistogram } from '../src/metrics/tally-histogram.ts';

const name = 'sse_event_delivery_latency_seconds';
const help = 'Time from the event timestamp to the socket write, in seconds.';
const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function tallyIn(registry = new Registry()) {
  return { registry, histogram: new TallyHistogram({ name, help, buckets, registers: [registry] }) };
}

function promClientIn(registry = new Registry()) {
  return { registry, histogram: new Histogram({ name, help, buckets, registers: [registry] }) };
}

/** Latencies in seconds: anything finite, bucket bounds exactly, zero and beyond the last bound. */
const latency = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1, max: 60 }),
  fc.constantFrom(0, ...buckets),
);

/** What a worker sends the cluster primary: its registry as JSON, through the IPC channel's JSON serialisation. */
async function overIpc(registry: Registry) {
  return JSON.parse(JSON.stringify(await registry.getMetricsAsJSON())) as Awaited<
    ReturnType<Registry['getMetricsAsJSON']>
  >;
}

const sampleOf = async (histogram: TallyHistogram, metricName: string, le?: number | '+Inf') =>
  (await histogram.get()).values.find((sample) => sample.metricName === metricName && sample.labels.le === le)?.value;

describe('the delivery-latency histogram', () => {
  it('renders exactly the exposition of a prom-client Histogram fed the same observations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(latency, { maxLength: 200 }), async (values) => {
        const ours = tallyIn();
        const theirs = promClientIn();
        for (const value of values) {
          ours.histogram.observe(value);
          theirs.histogram.observe(value);
        }
        expect(await ours.registry.metrics()).toBe(await theirs.registry.metrics());
      }),
    );
  });

  it('is summed bucket by bucket across cluster workers, as the primary sums prom-client histograms', async () => {
    const workers = [tallyIn(), tallyIn()];
    const promClientWorkers = [promClientIn(), promClientIn()];
    const perWorker = [
      [0.0004, 0.003, 0.003, 0.02, 0.7, 12],
      [0.001, 0.04, 0.2, 0.2, 3],
    ];
    perWorker.forEach((values, w) => {
      for (const value of values) {
        workers[w]?.histogram.observe(value);
        promClientWorkers[w]?.histogram.observe(value);
      }
    });
    const summed = await AggregatorRegistry.aggregate(
      await Promise.all(workers.map(({ registry }) => overIpc(registry))),
    ).metrics();
    const expected = await AggregatorRegistry.aggregate(
      await Promise.all(promClientWorkers.map(({ registry }) => overIpc(registry))),
    ).metrics();
    expect(summed).toBe(expected);
    expect(summed).toContain(`${name}_bucket{le="0.005"} 4\n`);
    expect(summed).toContain(`${name}_bucket{le="+Inf"} 11\n`);
    expect(summed).toContain(`${name}_count 11\n`);
  });

  it('starts from zero again when the registry resets its metrics', async () => {
    const ours = tallyIn();
    for (const value of [0.002, 0.3, 20, 20]) ours.histogram.observe(value);
    ours.registry.resetMetrics();
    expect(await ours.registry.metrics()).toBe(await tallyIn().registry.metrics());
    expect(await sampleOf(ours.histogram, `${name}_count`)).toBe(0);

    // And counts only what comes after, as a fresh prom-client Histogram would.
    const theirs = promClientIn();
    for (const value of [0.04, 0.04, 7]) {
      ours.histogram.observe(value);
      theirs.histogram.observe(value);
    }
    expect(await ours.registry.metrics()).toBe(await theirs.registry.metrics());
  });

  it('refuses a value that is not a finite number, as prom-client does, so _sum cannot turn NaN', () => {
    const { histogram } = tallyIn();
    expect(() => histogram.observe(Number.NaN)).toThrow(TypeError);
    expect(() => histogram.observe(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });
});
