// A label-free Prometheus histogram for the fan-out's per-delivery latency. Every event is
// observed once per client, so at 1,000 clients and 200 events/s that is 200,000
// observations a second; prom-client 15's Histogram.observe allocates a closure and a label
// object, validates and hashes the labels on every call, and a CPU profile of the service
// showed it at 7.2 % of busy time (plus 2.9 % in the fan-out's hook around it). Here an
// observation is a bucket search and two additions (about 6 ns against prom-client's 200 ns
// in a micro-benchmark).
//
// It is not a subclass of prom-client's Histogram: that class keeps its counts in a label
// hash map that its get(), reset() and constructor all reach into (the constructor even
// installs `observe` on the instance), so a subclass would replace everything but the name.
// Instead it is the object prom-client's Registry and AggregatorRegistry consume (name, help,
// type, aggregator 'sum', get(), reset()), the same shape prom-client itself registers
// for aggregated cluster metrics, and it renders the same exposition text: cumulative
// `_bucket{le}` samples up to +Inf, `_sum` and `_count`.
import type { Aggregator, Metric, Registry } from 'prom-client';

export interface TallyHistogramConfiguration {
  readonly name: string;
  readonly help: string;
  /** Upper bounds, ascending; +Inf is implied, as in prom-client. */
  readonly buckets: readonly number[];
  readonly registers: readonly Registry[];
}

/** One sample of the exposition, as prom-client's Histogram.get() lists them. */
export interface HistogramSample {
  readonly metricName: string;
  readonly labels: { le?: number | '+Inf' };
  readonly value: number;
}

export class TallyHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  /** How AggregatorRegistry combines the workers' samples: bucket by bucket, summed. */
  readonly aggregator: Aggregator = 'sum';
  /** The bucket bounds followed by +Infinity, which ends every search. */
  readonly #bounds: Float64Array;
  /** Observations per bucket (not cumulative); the last slot holds those above every bound. */
  readonly #counts: Float64Array;
  #sum = 0;

  constructor(configuration: TallyHistogramConfiguration) {
    const { name, help, buckets, registers } = configuration;
    if (!buckets.every((bound, i) => Number.isFinite(bound) && (i === 0 || bound > (buckets[i - 1] as number))))
      throw new Error(`${name}: buckets must be finite and ascending`);
    this.name = name;
    this.help = help;
    this.#bounds = Float64Array.of(...buckets, Number.POSITIVE_INFINITY);
    this.#counts = new Float64Array(this.#bounds.length);
    // The Registry only reads the members above; its type names prom-client's own classes.
    for (const registry of registers) registry.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void {
    // prom-client refuses these too: one NaN would make _sum NaN for the life of the process.
    if (!Number.isFinite(value)) throw new TypeError(`${this.name}: value is not a finite number: ${value}`);
    const bounds = this.#bounds;
    let bucket = 0;
    while (value > (bounds[bucket] as number)) bucket++;
    const counts = this.#counts;
    counts[bucket] = (counts[bucket] as number) + 1;
    this.#sum += value;
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: Aggregator;
    values: HistogramSample[];
  }> {
    const bucketName = `${this.name}_bucket`;
    const counts = this.#counts;
    const values: HistogramSample[] = [];
    let cumulative = 0;
    const bounds = this.#bounds;
    const last = bounds.length - 1; // +Infinity: rendered as le="+Inf" below
    for (let i = 0; i < last; i++) {
      cumulative += counts[i] as number;
      values.push({ metricName: bucketName, labels: { le: bounds[i] }, value: cumulative });
    }
    const count = cumulative + (counts[last] as number);
    values.push(
      { metricName: bucketName, labels: { le: '+Inf' }, value: count },
      { metricName: `${this.name}_sum`, labels: {}, value: this.#sum },
      { metricName: `${this.name}_count`, labels: {}, value: count },
    );
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Back to no observations; unlike prom-client's Histogram, the zero samples stay in the exposition. */
  reset(): void {
    this.#counts.fill(0);
    this.#sum = 0;
  }
}
