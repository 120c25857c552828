// `npm run drill [-- --report] [drill ...]`: runs the incident drills (all, or the named
// ones, e.g. `stuck-consumer`) with vitest, then with --report writes each recorded timeline
// to docs/drills/<drill>.md and .png; --report-only writes them from the last recorded run. The report is written even when a drill fails: a failed drill's
// timeline is what shows how the incident went wrong. Exits with vitest's code.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeChartPng } from './chart.ts';
import { renderTimeline } from './report.ts';
import { timelineDir, type TimelineFile } from './support/timeline.ts';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const reportOnly = args.includes('--report-only');
const report = reportOnly || args.includes('--report');
const drills = args.filter((a) => !a.startsWith('--'));

const vitest = reportOnly
  ? { status: 0 }
  : spawnSync(
      join(root, 'node_modules/.bin/vitest'),
      ['run', '--config', 'vitest.drills.config.ts', ...drills.map((d) => `drills/${d}.drill.test.ts`)],
      { cwd: root, stdio: 'inherit' },
    );

if (report) {
  const out = join(root, 'docs/drills');
  mkdirSync(out, { recursive: true });
  const recorded = (existsSync(timelineDir) ? readdirSync(timelineDir, { withFileTypes: true }) : [])
    .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
    .map((entry) => JSON.parse(readFileSync(join(timelineDir, entry.name), 'utf8')) as TimelineFile)
    .filter((file) => drills.length === 0 || drills.includes(file.drill));
  for (const file of recorded) {
    writeFileSync(join(out, `${file.drill}.md`), renderTimeline(file));
    await writeChartPng(file, join(out, `${file.drill}.png`));
    console.log(`drill: wrote docs/drills/${file.drill}.md`);
  }
}
process.exit(vitest.status ?? 1);
