// Renders a drill's recorded timeline (.cache/drills/<drill>.json) as docs/drills/<drill>.md:
// the marks in seconds since the fault, then every series Prometheus showed during the drill
// (when it was present, its peak), so on-call can see what each alert looks like before it
// pages them, with the chart chart.ts draws beside it (<drill>.png).
import type { TimelineFile } from './support/timeline.ts';

const seconds = (at: number, from: number) => ((at - from) / 1000).toFixed(1);

export function renderTimeline(file: TimelineFile): string {
  const from = file.faultAt ?? file.marks[0]?.at ?? file.samples[0]?.at ?? 0;
  const lines = [
    `# Drill: ${file.title}`,
    '',
    file.story,
    '',
    `Recorded ${new Date(from).toISOString()} by \`npm run drill -- --report\` (drills/${file.drill}.drill.test.ts).`,
    '',
    'Settings on top of the bundle (k8s/) and the generated rules:',
    '',
    ...Object.entries(file.settings).map(([name, value]) => `- ${name}: \`${value}\``),
    '',
    `![${file.title}: the series and alerts below on one time axis](${file.drill}.png)`,
    '',
    '## Timeline',
    '',
    'Seconds since the fault (negative: before it).',
    '',
    '| s | what | detail |',
    '| ---: | --- | --- |',
    ...file.marks.map((m) => `| ${seconds(m.at, from)} | ${m.what} | ${(m.detail ?? '').replaceAll('|', '\\|')} |`),
    '',
    '## What Prometheus showed',
    '',
    'Sampled every 2 s. Alert series are `ALERTS` (1 while pending or firing).',
    '',
    '| series | first seen (s) | last seen (s) | peak |',
    '| --- | ---: | ---: | ---: |',
  ];
  const series = new Map<string, { first: number; last: number; peak: number }>();
  for (const sample of file.samples) {
    for (const [name, value] of Object.entries(sample.values)) {
      const seen = series.get(name);
      if (seen === undefined) series.set(name, { first: sample.at, last: sample.at, peak: value });
      else series.set(name, { first: seen.first, last: sample.at, peak: Math.max(seen.peak, value) });
    }
  }
  for (const [name, { first, last, peak }] of [...series].sort(([a], [b]) => a.localeCompare(b))) {
    const shown = Number.isInteger(peak) ? String(peak) : peak.toFixed(1);
    lines.push(`| ${name} | ${seconds(first, from)} | ${seconds(last, from)} | ${shown} |`);
  }
  return `${lines.join('\n')}\n`;
}
