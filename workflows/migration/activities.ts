/** The migration's activities, one proxy per timeout profile (types only: the workflow bundle has no activity code). */
import { proxyActivities } from '@temporalio/workflow';
import type { MigrationActivities } from '../../activities';
import {
  appPoll,
  appProbe,
  armCall,
  armLongRunning,
  compensationCall,
  keyHolderWaitCall,
  pollTimeout,
} from '../activity-options';

export const arm = proxyActivities<MigrationActivities>(armCall);
export const armLong = proxyActivities<MigrationActivities>(armLongRunning);
export const probes = proxyActivities<MigrationActivities>(appProbe);
export const undo = proxyActivities<MigrationActivities>(compensationCall);
export const keyHolderWait = proxyActivities<MigrationActivities>(keyHolderWaitCall);

export { appPoll, appProbe, armCall, armLongRunning, compensationCall, keyHolderWaitCall, pollTimeout };
