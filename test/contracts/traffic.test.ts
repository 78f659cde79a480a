/** The weights a traffic shift writes at each step, and the ones its rollback puts back. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pinned, trafficAt, type TrafficBefore } from '../../contracts/traffic';

const latest: TrafficBefore = {
  traffic: [{ latestRevision: true, weight: 100 }],
  latestRevisionName: 'app--blue',
  activeRevisions: ['app--blue'],
};
const split: TrafficBefore = {
  traffic: [
    { revisionName: 'app--blue', weight: 70 },
    { latestRevision: true, weight: 30, label: 'canary' },
  ],
  latestRevisionName: 'app--green',
  activeRevisions: ['app--blue', 'app--green'],
};

describe('traffic shift weights', () => {
  test('rollback pins each entry to the revision it reached, weights unchanged', () => {
    assert.deepEqual(pinned(latest), [{ revisionName: 'app--blue', weight: 100 }]);
    assert.deepEqual(pinned(split), [
      { revisionName: 'app--blue', weight: 70 },
      { revisionName: 'app--green', weight: 30, label: 'canary' },
    ]);
  });

  test('each step gives the new revision its share and the rest in proportion, whole and summing to 100', () => {
    assert.deepEqual(trafficAt(latest, 'app--new', 0), [
      { revisionName: 'app--blue', weight: 100 },
      { revisionName: 'app--new', weight: 0 },
    ]);
    assert.deepEqual(trafficAt(split, 'app--new', 15), [
      { revisionName: 'app--blue', weight: 60 },
      { revisionName: 'app--green', weight: 25, label: 'canary' },
      { revisionName: 'app--new', weight: 15 },
    ]);
    for (let step = 0; step < 100; step += 7) {
      const weights = trafficAt(split, 'app--new', step);
      assert.equal(
        weights.reduce((s, t) => s + t.weight, 0),
        100,
        `step ${step}`,
      );
      assert.ok(weights.every((t) => Number.isInteger(t.weight)));
    }
  });

  test('at 100 %: latest again if the app followed its latest revision, else pinned to the new one', () => {
    assert.deepEqual(trafficAt(latest, 'app--new', 100), [{ latestRevision: true, weight: 100 }]);
    assert.deepEqual(trafficAt(split, 'app--new', 100), [{ revisionName: 'app--new', weight: 100 }]);
  });
});
