/** The fleet's activities, one proxy per timeout profile (types only: the workflow bundle has no activity code). */
import { proxyActivities } from '@temporalio/workflow';
import type { MigrationActivities } from '../../activities';
import { appPoll, armCall, armLongRunning, compensationCall, pollTimeout } from '../activity-options';

export const arm = proxyActivities<MigrationActivities>(armCall);
export const armLong = proxyActivities<MigrationActivities>(armLongRunning);

export { appPoll, armCall, armLongRunning, compensationCall, pollTimeout };
