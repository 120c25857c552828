// What a drill records for the on-call: marks (the fault, detection, the page, the
// controller's action, Ready, caught up, resolved), each in seconds since the fault, and
// samples of what Prometheus showed meanwhile (pending, oldest age, lag, alert states,
// remediations). Saved as JSON under .cache/drills/; `npm run drill -- --report` turns the
// files into docs/drills/<drill>.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningPrometheus } from '#test-support/prometheus';

export const timelineDir = join(import.meta.dirname, '../../.cache/drills');

export interface Mark {
  readonly at: number;
  readonly what: string;
  readonly detail?: string;
}

export interface Sample {
  readonly at: number;
  readonly values: Record<string, number>;
}

export interface TimelineFile {
  readonly drill: string;
  readonly title: string;
  readonly story: string;
  readonly faultAt: number | undefined;
  readonly marks: readonly Mark[];
  readonly samples: readonly Sample[];
  readonly settings: Record<string, string>;
}

export class Timeline {
  readonly drill: string;
  readonly title: string;
  readonly story: string;
  readonly marks: Mark[] = [];
  readonly samples: Sample[] = [];
  readonly settings: Record<string, string> = {};
  #faultAt: number | undefined;

  constructor(drill: string, title: string, story: string) {
    this.drill = drill;
    this.title = title;
    this.story = story;
  }

  /** The moment everything else is measured from. */
  fault(what: string, detail?: string, at = Date.now()): void {
    this.#faultAt = at;
    this.mark(what, detail, at);
  }

  mark(what: string, detail?: string, at = Date.now()): void {
    this.marks.push({ at, what, ...(detail === undefined ? {} : { detail }) });
  }

  /** Marks `what` once only: the first time a condition is seen. */
  markOnce(what: string, detail?: string): void {
    if (!this.marks.some((m) => m.what === what)) this.mark(what, detail);
  }

  /** Seconds from the fault to the first mark named `what`, if both happened. */
  secondsTo(what: string): number | undefined {
    const mark = this.marks.find((m) => m.what === what);
    if (mark === undefined || this.#faultAt === undefined) return undefined;
    return Math.round((mark.at - this.#faultAt) / 100) / 10;
  }

  summary(): string {
    return this.marks
      .map((m) => {
        const s = this.#faultAt === undefined ? '' : `${((m.at - this.#faultAt) / 1000).toFixed(1)} s `;
        return `${s}${m.what}${m.detail === undefined ? '' : ` (${m.detail})`}`;
      })
      .join('\n');
  }

  save(): string {
    mkdirSync(timelineDir, { recursive: true });
    const path = join(timelineDir, `${this.drill}.json`);
    const file: TimelineFile = {
      drill: this.drill,
      title: this.title,
      story: this.story,
      faultAt: this.#faultAt,
      marks: this.marks,
      samples: this.samples,
      settings: this.settings,
    };
    writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
    return path;
  }
}

/** What the sampler reads every tick: a column name per series, from its labels. */
export interface SampledQuery {
  readonly expr: string;
  readonly column: (labels: Record<string, string>) => string;
}

/** Reads `queries` from Prometheus every `everyMs` into the timeline until stopped. */
export function startSampler(
  prometheus: RunningPrometheus,
  timeline: Timeline,
  queries: readonly SampledQuery[],
  everyMs = 2_000,
): () => Promise<void> {
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      const values: Record<string, number> = {};
      for (const { expr, column } of queries) {
        const result = await prometheus.query(expr).catch(() => []);
        for (const sample of result) values[column(sample.metric)] = Number(sample.value[1]);
      }
      timeline.samples.push({ at: Date.now(), values });
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  };
  const running = loop();
  return async () => {
    stopped = true;
    await running;
  };
}
