// Stand-in for xk6-sse's `k6/x/sse`, with its contract: open() runs the setup callback,
// then hands each message to the 'event' handlers, one at a time, until close() or the end
// of the stream, and only then returns.
export function open(url, params, setup) {
  const headers = (params && params.headers) || {};
  const stream = globalThis.fakeK6.service.stream(url, headers);
  if (stream.status !== 200) return { url, status: stream.status, headers: {}, error: '' };
  const handlers = { open: [], event: [], error: [] };
  let closed = false;
  const client = {
    on(name, handler) {
      (handlers[name] = handlers[name] || []).push(handler);
    },
    close() {
      closed = true;
    },
  };
  setup(client);
  for (const handler of handlers.open) handler();
  for (let message = stream.next(); message !== undefined && !closed; message = stream.next()) {
    for (const handler of handlers.event) handler(message);
  }
  stream.close();
  return { url, status: 200, headers: {}, error: '' };
}

export default { open };
