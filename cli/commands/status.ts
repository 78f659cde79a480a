/** `cutover status MIGRATION`: stage table, pending gate, timings and outcome. */
import type { Command } from 'commander';
import { type MigrationStatus, migrationStatus, resolveMigrationRun } from '../../client/migrations';
import { type CliContext, withTemporal } from '../context';
import { examples, MIGRATION_ARGUMENT, type Run, RUN_OPTION } from '../options';
import { renderProgress } from '../render';

export type { ShownProgress } from '../../client/migrations';

export interface StatusOptions {
  /** A workflow id, or an app name. */
  readonly workflowId: string;
  /** One run of it (`--run`); the latest by default. */
  readonly run?: string;
}

export type StatusResult = MigrationStatus;

export async function statusCommand(ctx: CliContext, opts: StatusOptions): Promise<StatusResult> {
  return withTemporal(ctx, async (t) => {
    const { workflowId, runId } = await resolveMigrationRun(t, opts.workflowId, opts.run);
    const s = await migrationStatus(t, workflowId, runId);
    ctx.out.result(s, () => renderProgress(s.progress, s.status, runId) + (s.link ? `\n\nWeb UI: ${s.link}` : ''));
    return s;
  });
}

export function registerStatus(program: Command, run: Run): void {
  program
    .command('status')
    .argument(...MIGRATION_ARGUMENT)
    .description('Stage table, pending gate, timings and outcome')
    .option(...RUN_OPTION)
    .addHelpText(
      'after',
      examples(
        'cutover status claims-bot',
        'cutover -o json status claims-bot',
        'cutover status claims-bot --run 0f9e2a4c-6d1b-4e8a-9c3f-5b7d2e1a8c46',
      ),
    )
    .action((workflowId: string, o: Omit<StatusOptions, 'workflowId'>) =>
      run((ctx) => statusCommand(ctx, { workflowId, ...o })),
    );
}
