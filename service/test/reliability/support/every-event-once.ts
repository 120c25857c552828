// The verdict the scale-out suites give every client: once caught up, it holds exactly the
// stream's ids, in order, none twice, and it was never told to resync.
import { expect } from 'vitest';
import { eventually } from '#test-support/instance';
import type { ResumingClient } from './resuming-client.ts';

export async function expectEveryEventOnce(clients: readonly ResumingClient[], ids: readonly string[]): Promise<void> {
  for (const client of clients)
    await eventually(
      () => client.ids.length >= ids.length,
      `a client to catch up (${client.ids.length}/${ids.length})`,
      30_000,
    );
  for (const client of clients) {
    expect(client.ids).toEqual(ids);
    expect(client.outOfOrder).toBe(0);
    expect(client.controlEvents).not.toContain('resync');
  }
}
