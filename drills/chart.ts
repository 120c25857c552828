// A drill's timeline as one chart on one time axis (seconds since the fault): pending, oldest
// pending age, lag, drops and remediations as lines, each alert as a bar (pale while pending,
// dark while firing), the timeline's marks as vertical rules. Drawn as SVG, rendered to PNG by
// the same Chromium the browser tests use, so no plotting dependency is needed.
import { writeFile } from 'node:fs/promises';
import { launchChromium } from '#test-support/browser';
import type { TimelineFile } from './support/timeline.ts';

const WIDTH = 1100;
const LEFT = 230;
const RIGHT = 20;
const PANEL = 110;
const BAR = 18;
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

const LINE_PANELS: readonly (readonly [prefix: string, title: string])[] = [
  ['pending ', 'pending entries'],
  ['oldest age s ', 'oldest pending age (s)'],
  ['lag ', 'lag (entries)'],
  ['dropped per min', 'dropped / min'],
  ['remediations ', 'remediations (total)'],
];

const escape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

export function chartSvg(file: TimelineFile): string {
  const from = file.faultAt ?? file.samples[0]?.at ?? 0;
  const times = file.samples.map((s) => (s.at - from) / 1000);
  const t0 = Math.min(0, ...times);
  const t1 = Math.max(1, ...times);
  const x = (t: number) => LEFT + ((t - t0) / (t1 - t0)) * (WIDTH - LEFT - RIGHT);
  const parts: string[] = [];
  let top = 30;
  parts.push(`<text x="${LEFT}" y="18" font-size="14" font-weight="bold">${escape(file.title)}</text>`);

  for (const [prefix, title] of LINE_PANELS) {
    const columns = [...new Set(file.samples.flatMap((s) => Object.keys(s.values)))].filter((c) =>
      c.startsWith(prefix),
    );
    if (columns.length === 0) continue;
    const peak = Math.max(1, ...file.samples.flatMap((s) => columns.map((c) => s.values[c] ?? 0)));
    const y = (v: number) => top + PANEL - (v / peak) * (PANEL - 10);
    parts.push(
      `<rect x="${LEFT}" y="${top}" width="${WIDTH - LEFT - RIGHT}" height="${PANEL}" fill="#fafafa" stroke="#ccc"/>`,
    );
    parts.push(`<text x="8" y="${top + 14}" font-size="12" font-weight="bold">${escape(title)}</text>`);
    parts.push(`<text x="${LEFT - 4}" y="${top + 12}" font-size="10" text-anchor="end">${peak.toFixed(0)}</text>`);
    columns.forEach((column, i) => {
      const colour = COLOURS[i % COLOURS.length] ?? '#000';
      const points = file.samples
        .filter((s) => s.values[column] !== undefined)
        .map((s) => `${x((s.at - from) / 1000).toFixed(1)},${y(s.values[column] ?? 0).toFixed(1)}`);
      parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
      const label = column.slice(prefix.length) || column;
      parts.push(`<text x="8" y="${top + 30 + i * 13}" font-size="10" fill="${colour}">${escape(label)}</text>`);
    });
    top += PANEL + 12;
  }

  // One bar per alert (name, cause, group), coloured by state over time.
  const alertColumns = [...new Set(file.samples.flatMap((s) => Object.keys(s.values)))].filter((c) =>
    c.startsWith('alert '),
  );
  const alerts = [...new Set(alertColumns.map((c) => c.replace(/ (pending|firing)$/, '')))].sort();
  const step = times.length > 1 ? (t1 - t0) / times.length : 2;
  for (const alert of alerts) {
    parts.push(`<text x="8" y="${top + 13}" font-size="10">${escape(alert.slice('alert '.length))}</text>`);
    parts.push(
      `<rect x="${LEFT}" y="${top}" width="${WIDTH - LEFT - RIGHT}" height="${BAR}" fill="#fafafa" stroke="#eee"/>`,
    );
    for (const sample of file.samples) {
      const state = sample.values[`${alert} firing`] ? 'firing' : sample.values[`${alert} pending`] ? 'pending' : '';
      if (state === '') continue;
      const t = (sample.at - from) / 1000;
      parts.push(
        `<rect x="${x(t).toFixed(1)}" y="${top + 2}" width="${Math.max(1, x(t + step) - x(t)).toFixed(1)}" height="${BAR - 4}" fill="${state === 'firing' ? '#c0392b' : '#f5b7b1'}"/>`,
      );
    }
    top += BAR + 4;
  }

  // Marks: vertical rules across every panel, labelled at the bottom.
  const bottom = top + 10;
  file.marks.forEach((mark, i) => {
    const t = (mark.at - from) / 1000;
    if (t < t0 || t > t1) return;
    parts.push(`<line x1="${x(t)}" y1="30" x2="${x(t)}" y2="${bottom}" stroke="#555" stroke-dasharray="3,3"/>`);
    parts.push(
      `<text x="${x(t) + 3}" y="${bottom + 14 + (i % 6) * 12}" font-size="10">${t.toFixed(0)} s ${escape(mark.what)}</text>`,
    );
  });
  const axis = bottom + 14 + 6 * 12 + 10;
  for (let t = Math.ceil(t0 / 30) * 30; t <= t1; t += 30)
    parts.push(`<text x="${x(t)}" y="${axis}" font-size="10" text-anchor="middle">${t} s</text>`);
  const height = axis + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>`;
}

/** Renders the chart to a PNG file with headless Chromium. */
export async function writeChartPng(file: TimelineFile, path: string): Promise<void> {
  const svg = chartSvg(file);
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
    const png = await page.locator('svg').screenshot();
    await writeFile(path, png);
  } finally {
    await browser.close();
  }
}
