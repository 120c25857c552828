// Instances and stream clients that one test opens, closed after it: clients first, as an
// instance closes only once its streams are gone.
import { afterEach } from 'vitest';
import { SseTestClient } from './sse-client.ts';
import { startInstance, testConfig, testStream, type TestInstance } from './instance.ts';

export function perTest() {
  const running: TestInstance[] = [];
  const clients: SseTestClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await Promise.all(running.splice(0).map((instance) => instance.close()));
  });
  return {
    instance: async (stream = testStream(), env: Record<string, string> = {}): Promise<TestInstance> => {
      const started = await startInstance(testConfig(stream, env));
      running.push(started);
      return started;
    },
    open: async (url: string, options: Parameters<typeof SseTestClient.open>[1]): Promise<SseTestClient> => {
      const client = await SseTestClient.open(url, options);
      clients.push(client);
      return client;
    },
  };
}
