// The room's protocol: where the run streams and publishes, and the bodies it publishes.
import { describe, expect, it } from 'vitest';
import { planFrom } from './plan.js';
import { roomEvent, streamUrl, updateEvent } from './room.js';

const env = { TOKEN: 't', METRICS_URL: 'http://m:9464/metrics' };

describe('the room', () => {
  it('streams the room resuming after the start marker, and publishes padded updates into it', () => {
    const plan = planFrom({ ...env, MATCH_ID: 'm:1', PAYLOAD_BYTES: '10' });
    expect(streamUrl(plan, '1-0')).toBe('http://127.0.0.1:4001/api/realtime/stream?matchId=m%3A1&lastEventId=1-0');
    expect(updateEvent(plan, 'run', 7)).toEqual({
      matchId: 'm:1',
      action: 'match:updated',
      data: { loadtest: 'run', kind: 'update', seq: 7, pad: 'x'.repeat(10) },
    });
    expect(roomEvent(plan, 'run', 'end')).toEqual({
      matchId: 'm:1',
      action: 'match:updated',
      data: { loadtest: 'run', kind: 'end' },
    });
  });
});
