// Stand-in for the `k6` module: check() and sleep(), recorded by the harness.
export function check(value, sets, tags) {
  let all = true;
  for (const [name, predicate] of Object.entries(sets)) {
    const ok = Boolean(predicate(value));
    globalThis.fakeK6.checks.push({ name, ok, tags: tags ?? {} });
    all = all && ok;
  }
  return all;
}

export function sleep(seconds) {
  globalThis.fakeK6.sleeps.push(seconds);
}
