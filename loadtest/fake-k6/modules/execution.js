// Stand-in for `k6/execution`: the harness sets the current VU and iteration.
const exec = {
  vu: { idInTest: 0, idInInstance: 0, iterationInInstance: 0, iterationInScenario: 0 },
  scenario: { name: '', executor: '', startTime: 0, progress: 0, iterationInInstance: 0, iterationInTest: 0 },
  instance: {},
  test: {
    options: {},
    abort(message) {
      throw new Error(`test aborted: ${message}`);
    },
    fail(message) {
      globalThis.fakeK6.failures.push(message);
    },
  },
};
globalThis.fakeK6.exec = exec;
export default exec;
