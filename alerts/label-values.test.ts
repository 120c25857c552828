// The alert rules match label values the controller writes (result="failed",
// reason="budget_exhausted"). names.ts lists them for the rules; the controller keeps its
// own lists in controller/model.ts. This test fails the moment the two drift apart.
import { describe, expect, it } from 'vitest';
import { SKIP_REASONS, type RemediationResult as ControllerResult } from '../service/src/controller/model.ts';
import { remediationResults, skippedRemediationReasons, type RemediationResult } from '../service/src/metrics/names.ts';

// The controller's result is a type only, so the comparison is a type check (part of
// `npm test` through `npm run typecheck`): `true` does not compile when the unions differ.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const resultsAgree: Same<RemediationResult, ControllerResult> = true;

describe('label values shared by the controller and the alert rules', () => {
  it('name the same skip reasons as the controller records', () => {
    expect([...skippedRemediationReasons].sort()).toEqual([...SKIP_REASONS].sort());
  });

  it('name the same remediation results as the controller records', () => {
    expect(resultsAgree).toBe(true);
    expect(remediationResults).toContain('failed');
  });
});
