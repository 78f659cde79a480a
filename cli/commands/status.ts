/** `cutover status MIGRATION`: stage table, pending gate, timings and outcome. */
import type { Command } from 'commander';
import { type MigrationStatus, migrationStatus, resolveMigration } from '../../client/migrations';
import { type CliContext, withTemporal } from '../context';
import { examples, MIGRATION_ARGUMENT, type Run } from '../options';
import { renderProgress } from '../render';

export type { ShownProgress } from '../../client/migrations';

export interface StatusOptions {
  /** A workflow id, or an app name. */
  readonly workflowId: string;
}

export type StatusResult = MigrationStatus;

export async function statusCommand(ctx: CliContext, opts: StatusOptions): Promise<StatusResult> {
  return withTemporal(ctx, async (t) => {
    const s = await migrationStatus(t, await resolveMigration(t, opts.workflowId));
    ctx.out.result(s, () => renderProgress(s.progress, s.status) + (s.link ? `\n\nWeb UI: ${s.link}` : ''));
    return s;
  });
}

export function registerStatus(program: Command, run: Run): void {
  program
    .command('status')
    .argument(...MIGRATION_ARGUMENT)
    .description('Stage table, pending gate, timings and outcome')
    .addHelpText('after', examples('cutover status claims-bot', 'cutover -o json status claims-bot'))
    .action((workflowId: string) => run((ctx) => statusCommand(ctx, { workflowId })));
}
