// The status report for people (an aligned table) and for scripts (JSON). Both come from
// the same StatusReport, so they cannot say different things.
import type { GroupStatus, StatusReport } from './sample.ts';

const dash = (value: number | string | undefined, unit = '') => (value === undefined ? '-' : `${value}${unit}`);

function verdictText(group: GroupStatus, laggingEntries: number): string {
  const parts: string[] = [];
  const v = group.verdict;
  if (v.state === 'stuck')
    parts.push(
      `STUCK ${v.reason}: ${v.detail}; held ${v.heldSeconds} s here, the controller acts at ${v.sustainSeconds} s`,
    );
  if (group.lagging) parts.push(`LAGGING: ${group.lag} entries behind (over ${laggingEntries})`);
  return parts.length === 0 ? 'ok' : parts.join('; ');
}

function table(rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) => {
        if (column === row.length - 1) return cell;
        const width = widths[column] ?? 0;
        return rightAligned.has(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  '),
  );
}

export function renderTable(report: StatusReport): string {
  if (report.redis === 'unreachable') return `${report.observedAt}  Redis unreachable: ${report.error}\n`;
  const { stream, sse, thresholds: t } = report;
  const lines = [
    `${report.observedAt}  stream ${stream.key}`,
    `  length ${stream.length} of MAXLEN ${stream.maxLen}   first ${dash(stream.firstId)}   last ${dash(stream.lastId)}`,
    stream.replayWindowSeconds === undefined
      ? `  replay window: no events arriving (the stream holds ${dash(stream.retainedSeconds, ' s')} of history)`
      : `  replay window ${stream.replayWindowSeconds} s at ${stream.ratePerSecond} events/s (MAXLEN / rate; holds ${dash(stream.retainedSeconds, ' s')} now)` +
        (stream.replayWindowSeconds < t.minReplayWindowSeconds ? `  BELOW ${t.minReplayWindowSeconds} s` : ''),
    `  metrics:sse   connections ${sse.connections}   disconnects ${sse.disconnects}   dropped ${sse.dropped}`,
    '',
  ];
  if (report.groups.length === 0) {
    lines.push(`no consumer group named ${report.groupPrefix}:<pod> on this stream`);
  } else {
    const header = ['GROUP', 'POD', 'PENDING', 'OLDEST PENDING', 'LAG', 'CONSUMER IDLE', 'VERDICT'];
    const rows = report.groups.map((g) => [
      g.group,
      g.pod,
      String(g.pending),
      dash(g.oldestPendingAgeSeconds, ' s'),
      dash(g.lag),
      dash(g.consumerIdleSeconds, ' s'),
      verdictText(g, t.laggingEntries),
    ]);
    lines.push(...table([header, ...rows], new Set([2, 3, 4, 5])));
  }
  if (report.foreignGroups > 0) lines.push(`(${report.foreignGroups} other group(s) on the stream, not ours)`);
  lines.push(
    '',
    `stuck when pending > ${t.pendingEntries}, oldest pending > ${t.oldestPendingAgeSeconds} s, or lag grows while the consumer is idle > ${t.consumerIdleSeconds} s; lagging when lag > ${t.laggingEntries}`,
  );
  return `${lines.join('\n')}\n`;
}

export function renderJson(report: StatusReport): string {
  // null, not a missing key, for "not known": scripts can rely on every field being there.
  return `${JSON.stringify(report, (_key, value: unknown) => (value === undefined ? null : value))}\n`;
}
