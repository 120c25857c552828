// The reference reader of `npm run bench:redis`: one process subscribed to a Redis Pub/Sub
// channel with the same client library the service uses, standing for one instance. It
// counts what arrives and the publish→receive time from the "pt" the producer stamps into
// each event, and hands both to the bench over IPC when asked.
import { Redis } from 'ioredis';
import { nowMs } from './load-client.ts';

interface Request {
  readonly type: 'report' | 'stop';
}

const [url, channel] = process.argv.slice(2) as [string, string];
const redis = new Redis(url, { protocol: 2, connectionName: 'bench:pubsub-subscriber', lazyConnect: true });
let events = 0;
let latencies: number[] = [];

redis.on('message', (_channel: string, message: string) => {
  events++;
  const event = JSON.parse(message) as { data?: { pt?: number } };
  if (typeof event.data?.pt === 'number') latencies.push(nowMs() - event.data.pt);
});
await redis.connect();
await redis.subscribe(channel);
process.send?.({ type: 'ready' });

process.on('message', (message: Request) => {
  if (message.type === 'report') {
    process.send?.({ type: 'report', events, latencies });
    latencies = [];
  } else {
    redis.disconnect();
    process.exit(0);
  }
});
