// Stand-in for `k6/http`: requests go to the harness's in-memory service.
function response(status, body) {
  return {
    status,
    body,
    json(selector) {
      const parsed = JSON.parse(body);
      return selector === undefined ? parsed : parsed[selector];
    },
  };
}

export function get(url) {
  const answer = globalThis.fakeK6.service.get(url);
  return response(answer.status, answer.body);
}

export function post(url, body, params) {
  const answer = globalThis.fakeK6.service.post(url, body, (params && params.headers) || {});
  return response(answer.status, answer.body);
}

export default { get, post };
