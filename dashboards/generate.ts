// Renders the on-call dashboard to the JSON the repository commits, which Grafana (and the
// bundle's monitoring component) loads; `npm run generate` writes it.
import { realtimeOncallDashboard } from './index.ts';

export const dashboardPath = 'dashboards/generated/realtime-oncall.json';

export function dashboardFiles(): { path: string; source: string; content: string }[] {
  return [
    {
      path: dashboardPath,
      source: 'dashboards/index.ts',
      content: `${JSON.stringify(realtimeOncallDashboard(), null, 2)}\n`,
    },
  ];
}
