// Runs INSIDE a pod of the test cluster, on the service's own image (Node.js built-ins only;
// Node 24 strips the types), so traffic takes the path a real client's does: Service DNS, the
// ClusterIP, kube-proxy.
//
//   node stream-client.ts stream         one resuming SSE client per token in TOKENS (comma
//                                         separated, distinct subjects so the per-identity
//                                         connect limit is per client); prints one JSON line
//                                         per event received and per (re)connection
//   node stream-client.ts publish N TAG  publishes N events through the Service, each retried
//                                         until accepted (202); prints each accepted id
//
// Env: SERVICE_URL (http://trayb-realtime:4001), TOKENS or TOKEN, PUBLISH_INTERVAL_MS (0).
const base = process.env['SERVICE_URL'] ?? 'http://trayb-realtime:4001';
const print = (line: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ at: Date.now(), ...line })}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One client: reads frames, records its last id, reconnects with Last-Event-ID as a browser's EventSource would. */
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function stream(client: number, token: string): Promise<never> {
  let lastId: string | undefined;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
      if (lastId !== undefined) headers['last-event-id'] = lastId;
      const response = await fetch(`${base}/api/realtime/stream`, { headers });
      print({ client, kind: 'connected', status: response.status, lastId });
      if (response.status !== 200 || response.body === null) throw new Error(`status ${response.status}`);
      let buffer = '';
      const decoder = new TextDecoder();
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
          }
          if (fields.event === undefined && fields.data === undefined) continue;
          if (fields.id !== undefined && fields.event !== 'shutdown') lastId = fields.id;
          print({ client, kind: 'event', id: fields.id, event: fields.event, data: fields.data });
        }
      }
      print({ client, kind: 'ended', lastId });
    } catch (error) {
      print({ client, kind: 'error', message: messageOf(error), lastId });
    }
    await sleep(Math.min(200 * (attempt + 1), 1_000));
  }
}

async function publish(count: number, tag: string): Promise<void> {
  for (let n = 0; n < count; n += 1) {
    const body = JSON.stringify({ matchId: `cluster-${tag}`, action: 'match:updated', data: { tag, n } });
    for (;;) {
      try {
        const response = await fetch(`${base}/api/realtime/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${process.env['TOKEN'] ?? ''}`, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(5_000),
        });
        if (response.status === 202) {
          const { id } = (await response.json()) as { id: string };
          print({ kind: 'published', id, tag, n });
          await sleep(Number(process.env['PUBLISH_INTERVAL_MS'] ?? 0));
          break;
        }
        print({ kind: 'refused', status: response.status, tag, n });
      } catch (error) {
        print({ kind: 'refused', message: messageOf(error), tag, n });
      }
      await sleep(300);
    }
  }
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'stream') {
  const tokens = (process.env['TOKENS'] ?? '').split(',').filter(Boolean);
  await Promise.all(tokens.map((token, client) => stream(client, token)));
} else if (mode === 'publish') {
  await publish(Number(args[0]), args[1] ?? 'events');
} else {
  process.stderr.write('usage: stream-client.ts stream | publish N TAG\n');
  process.exit(2);
}
