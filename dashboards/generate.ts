// Renders the on-call dashboard to the committed JSON that Grafana (and the bundle's
// monitoring component) loads. Run `npm run generate:monitoring` after changing a panel.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { realtimeOncallDashboard } from './index.ts';

export const dashboardPath = 'dashboards/generated/realtime-oncall.json';

export function dashboardFiles(): { path: string; content: string }[] {
  return [{ path: dashboardPath, content: `${JSON.stringify(realtimeOncallDashboard(), null, 2)}\n` }];
}

if (import.meta.main) {
  for (const file of dashboardFiles()) writeFileSync(join(import.meta.dirname, '..', file.path), file.content);
}
