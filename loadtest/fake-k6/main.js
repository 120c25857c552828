// Entry of the harness: loads loadtest/sse.js as k6 would (init context first), drives it
// through a run and prints the outcome as one line of JSON.
/* global __ENV, console -- set by the host */
import './init.js';
import * as script from '../sse.js';
import { drive } from './harness.js';

console.log(
  JSON.stringify(
    drive(script, { behaviour: __ENV.FAKE_BEHAVIOUR || 'counted', runners: Number(__ENV.FAKE_RUNNERS || 1) }),
  ),
);
