// A private Prometheus server for end-to-end tests: the Debian /usr/bin/prometheus on a free
// loopback port, temporary storage, a generated config that scrapes the given targets every
// second and evaluates the given rule files every second. Tests query it over the HTTP API
// exactly as Grafana and Alertmanager would.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from './free-port.ts';

export interface ScrapeTarget {
  readonly job: string;
  /** host:port serving /metrics; loopback only. */
  readonly address: string;
  /** Extra target labels, as Kubernetes service discovery would attach (namespace, pod). */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface PrometheusOptions {
  readonly targets: readonly ScrapeTarget[];
  /**
   * Jobs whose targets come from a file Prometheus watches (file_sd: a JSON list of
   * `{targets, labels}`), for targets that come and go during a test as pods do.
   */
  readonly discoveredJobs?: readonly { readonly job: string; readonly file: string }[];
  /** Rule files' YAML contents (a `groups:` document each). */
  readonly ruleFiles?: readonly string[];
  readonly scrapeInterval?: string;
  readonly evaluationInterval?: string;
  readonly binary?: string;
}

export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface ActiveAlert {
  readonly labels: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly value: string;
}

export interface RunningPrometheus {
  readonly url: string;
  readonly pid: number | undefined;
  /** Instant query; rejects with Prometheus' own error when the expression is invalid. */
  query(expr: string): Promise<Sample[]>;
  /** Alerts currently pending or firing. */
  alerts(): Promise<ActiveAlert[]>;
  /** Polls until `expr` returns at least `count` series (rate() needs two scrapes in its window). */
  waitForSeries(expr: string, count: number, timeoutMs?: number): Promise<Sample[]>;
  /** Polls until every target has been scraped successfully at least once. */
  waitForTargetsUp(timeoutMs?: number): Promise<void>;
  /** Polls until an alert named `alertname` with these labels reaches `state`. */
  waitForAlert(
    alertname: string,
    labels?: Record<string, string>,
    state?: ActiveAlert['state'],
    timeoutMs?: number,
  ): Promise<ActiveAlert>;
  stop(): Promise<void>;
}

export class PrometheusMissingError extends Error {
  constructor(binary: string) {
    super(
      `${binary} was not found. Install the Debian package (\`apt-get install prometheus\`, then stop the service it starts).`,
    );
    this.name = 'PrometheusMissingError';
  }
}

/**
 * Rewrites every rule's `for:` so an alert fires in seconds; expressions, labels and
 * annotations stay exactly as generated.
 */
export function withShortFor(rulesYaml: string, duration: string): string {
  const doc = parse(rulesYaml) as { groups: { rules: { for?: string }[] }[] };
  for (const group of doc.groups) for (const rule of group.rules) if (rule.for !== undefined) rule.for = duration;
  return stringify(doc, { lineWidth: 0 });
}

/** Retries `attempt` every 250 ms until it returns something other than undefined. */
export async function waitUntil<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await attempt();
      if (result !== undefined) return result;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const binary = options.binary ?? '/usr/bin/prometheus';
  if (!existsSync(binary)) throw new PrometheusMissingError(binary);
  const dir = await mkdtemp(join(tmpdir(), 'trayb-prometheus-'));
  const ruleFiles = await Promise.all(
    (options.ruleFiles ?? []).map(async (content, i) => {
      const path = join(dir, `rules-${i}.yaml`);
      await writeFile(path, content);
      return path;
    }),
  );
  const discovered = options.discoveredJobs ?? [];
  const jobs = [...new Set([...options.targets.map((t) => t.job), ...discovered.map((d) => d.job)])];
  const config = {
    global: {
      scrape_interval: options.scrapeInterval ?? '1s',
      evaluation_interval: options.evaluationInterval ?? '1s',
    },
    rule_files: ruleFiles,
    // One scrape config per job (Prometheus refuses two with one name), static and discovered targets together.
    scrape_configs: jobs.map((job) => {
      const files = discovered.filter((d) => d.job === job).map((d) => d.file);
      return {
        job_name: job,
        static_configs: options.targets
          .filter((t) => t.job === job)
          .map((t) => ({ targets: [t.address], labels: { ...t.labels } })),
        ...(files.length === 0 ? {} : { file_sd_configs: [{ files, refresh_interval: '1s' }] }),
      };
    }),
  };
  await writeFile(join(dir, 'prometheus.yml'), stringify(config));

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  };

  const stop = async () => {
    if (!exited) {
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitUntil('Prometheus to become ready', 20_000, async () => {
      if (exited) throw new Error(`prometheus exited during start:\n${log}`);
      const response = await fetch(`${url}/-/ready`);
      return response.ok ? true : undefined;
    });
  } catch (error) {
    await stop();
    throw error;
  }

  const running: RunningPrometheus = {
    url,
    pid: child.pid,
    async query(expr) {
      const data = await api<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      return data.result;
    },
    async alerts() {
      return (await api<{ alerts: ActiveAlert[] }>('/api/v1/alerts')).alerts;
    },
    async waitForSeries(expr, count, timeoutMs = 20_000) {
      return waitUntil(`${count} series from ${expr}`, timeoutMs, async () => {
        const result = await running.query(expr);
        return result.length >= count ? result : undefined;
      });
    },
    async waitForTargetsUp(timeoutMs = 20_000) {
      await waitUntil(`all ${options.targets.length} targets to be up`, timeoutMs, async () => {
        const data = await api<{ activeTargets: { health: string }[] }>('/api/v1/targets?state=active');
        const up = data.activeTargets.filter((t) => t.health === 'up').length;
        return up === data.activeTargets.length && up >= options.targets.length ? true : undefined;
      });
    },
    async waitForAlert(alertname, labels = {}, state = 'firing', timeoutMs = 60_000) {
      const wanted = { alertname, ...labels };
      return waitUntil(`alert ${JSON.stringify(wanted)} to be ${state}`, timeoutMs, async () =>
        (await running.alerts()).find(
          (a) => a.state === state && Object.entries(wanted).every(([k, v]) => a.labels[k] === v),
        ),
      );
    },
    stop,
  };
  return running;
}
