// An SSE client on a bare TCP socket, so a test can stop reading (pause the socket) and be
// the slow client whose queue fills up, something fetch and EventSource cannot do.
import { connect, type Socket } from 'node:net';

export interface RawSseClient {
  /** Bytes received so far (headers included). */
  readonly received: () => number;
  /** Stops reading: the kernel buffers fill and the server sees a slow client. */
  pause(): void;
  close(): void;
}

export async function openRawSseClient(url: string, path: string, options: { paused: boolean }): Promise<RawSseClient> {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect({ host: hostname, port: Number(port) });
  let received = 0;
  let head = '';
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n\r\n`);
    });
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (head.length < 200) head += chunk.toString('latin1');
      if (!head.includes('\r\n')) return;
      socket.off('data', onData);
      if (!head.startsWith('HTTP/1.1 200')) {
        reject(new Error(`stream refused: ${head.split('\r\n')[0]}`));
        return;
      }
      socket.on('data', (more: Buffer) => {
        received += more.length;
      });
      if (options.paused) socket.pause();
      resolve();
    };
    socket.on('data', onData);
  });
  socket.on('error', () => undefined);
  return {
    received: () => received,
    pause: () => socket.pause(),
    close: () => socket.destroy(),
  };
}
