/**
 * The pace line of `cutover fleet status`: callers per minute over the last ten minutes, and when the callers left
 * would be done at that pace; held callers count as moved. Pure: a progress made up here, and the time it is read at.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { paceLine, renderFleetProgress } from '../../cli/fleet-render';
import type { CallerRecord, FleetProgress } from '../../contracts/fleet';

const NOW = Date.parse('2026-12-03T10:00:00Z');
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();

function progress(callers: CallerRecord[], outcome: FleetProgress['outcome'] = 'running'): FleetProgress {
  return {
    workflowId: 'cutover/fleet/chg-1',
    changeTicket: 'CHG-1',
    initiatedBy: 'alice',
    outcome,
    stages: [],
    waves: [],
    accounts: [],
    callers,
    approvals: [],
    runs: 1,
  };
}

const ended = (id: string, startedAgo: number, endedAgo: number): CallerRecord => ({
  id,
  state: 'succeeded',
  startedAt: at(startedAgo),
  endedAt: at(endedAgo),
});

test('four callers in the last four minutes, eight left: one a minute, eight minutes more', () => {
  const callers: CallerRecord[] = [
    ended('a', 4, 3),
    ended('b', 4, 2),
    ended('c', 3, 1),
    ended('d', 2, 0),
    ...Array.from({ length: 6 }, (_, i): CallerRecord => ({ id: `p${i}`, state: 'pending' })),
    { id: 'r0', state: 'running', startedAt: at(1) },
    { id: 'r1', state: 'running', startedAt: at(0) },
  ];
  assert.equal(
    paceLine(progress(callers), NOW),
    'Pace: 1.0 callers/min; 8 callers left: about 8m more (by 10:08:00 UTC; gates, bakes and key switches not counted)',
  );
});

test('callers that ended more than ten minutes ago do not count; too few ended, no pace', () => {
  const old = [ended('a', 60, 50), ended('b', 60, 40), ended('c', 12, 5)];
  assert.equal(paceLine(progress([...old, { id: 'p', state: 'pending' }]), NOW), undefined);
});

test('a fleet that is not running, or has nobody left, shows no pace', () => {
  const done = [ended('a', 4, 3), ended('b', 4, 2)];
  assert.equal(paceLine(progress([...done, { id: 'p', state: 'pending' }], 'stopped'), NOW), undefined);
  assert.equal(paceLine(progress(done), NOW), undefined);
});

test('held callers (onStop roll-back-wave) have moved: they count from when they were held', () => {
  const held = (id: string, startedAgo: number, heldAgo: number): CallerRecord => ({
    id,
    state: 'held',
    startedAt: at(startedAgo),
    heldAt: at(heldAgo),
  });
  const callers = [held('a', 4, 2), held('b', 3, 0), { id: 'p', state: 'pending' } as CallerRecord];
  assert.equal(
    paceLine(progress(callers), NOW),
    'Pace: 0.5 callers/min; 1 caller left: about 2m more (by 10:02:00 UTC; gates, bakes and key switches not counted)',
  );
  const text = renderFleetProgress(progress(callers), 'RUNNING', NOW).join('\n');
  assert.match(text, /^Held: 2 callers moved, each waiting for its wave's end \(onStop roll-back-wave\)/m);
});
