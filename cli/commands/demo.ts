/**
 * `cutover demo`: the README's main job. On a throwaway embedded environment of its own — in-memory Temporal dev
 * server with the Web UI, a simulator whose state and credentials are private to it, a worker — it migrates the demo
 * claims chatbot end to end, giving the approvals itself, shows progress, then prints the evidence and the Web UI
 * link. It never touches another environment: a running `cutover dev` keeps its state, migrations and address book.
 */
import * as path from 'node:path';
import { connectClient, type TemporalSettings, workflowLink } from '../../client/connect';
import { awaitResult, decide, executionStatus, queryProgress, startMigration } from '../../client/migrations';
import { migrationWorkflowId } from '../../contracts/ids';
import type { MigrationResult } from '../../contracts/model';
import { type Embedded, startEmbedded } from '../../worker/embedded';
import type { CliContext } from '../context';
import { UserError } from '../errors';
import { packageRoot } from '../package-root';
import { renderEvidenceMarkdown } from '../render';
import { untilSignal } from '../signals';
import { writeEvidenceFiles } from './evidence';
import { readPlan } from './plan';
import { portOrFree } from './ports';

export interface DemoOptions {
  /** Plan to run; the bundled examples/claims-bot.yaml by default. */
  readonly plan?: string;
  /** Stay up after the migration so the Web UI can be explored (default: when stdout is a terminal). */
  readonly keepRunning?: boolean;
  /** Preferred Temporal ports (default 7233 and 8233); free ones are used instead when they are taken. */
  readonly port?: number;
  readonly uiPort?: number;
}

export const DEMO_INITIATOR = 'change-manager (demo)';
export const DEMO_APPROVER = 'security-approver (demo)';

export async function demoCommand(ctx: CliContext, opts: DemoOptions): Promise<MigrationResult> {
  const planFile = opts.plan ?? path.join(packageRoot(), 'examples', 'claims-bot.yaml');
  const plan = await readPlan(planFile);
  if (ctx.dev)
    ctx.out.info(
      `A \`cutover dev\` environment is running (Temporal ${ctx.dev.temporal.address}); the demo leaves it alone and runs its own.`,
    );
  const port = await portOrFree(opts.port ?? 7233);
  const uiPort = await portOrFree(opts.uiPort ?? 8233);
  for (const [what, p] of [
    ['Temporal gRPC', port],
    ['Temporal Web UI', uiPort],
  ] as const)
    if (p.taken) ctx.out.info(`Port ${p.taken} (${what}) is in use; the demo uses the free port ${p.port} instead.`);
  const embedded: Embedded = await startEmbedded({
    config: ctx.config,
    temporalPort: port.port,
    uiPort: uiPort.port,
    ephemeral: true,
    log: (m) => ctx.out.info(m),
  }).catch((err: Error) => {
    if (/EADDRINUSE|address already in use|exited before it was ready/i.test(err.message))
      throw new UserError(
        `could not start the demo environment: ${err.message.split('\n')[0]}`,
        'another program took the port meanwhile; run the demo again, or choose ports with --port / --ui-port',
      );
    throw err;
  });
  // Only ever this environment: not TEMPORAL_ADDRESS, a config profile or the dev environment's address book.
  const own: TemporalSettings = {
    config: {
      temporal: { connectionOptions: {} },
      taskQueue: embedded.env.taskQueue,
      ...(embedded.server.uiUrl ? { webUiUrl: embedded.server.uiUrl } : {}),
    },
    overrides: {
      address: embedded.server.address,
      namespace: embedded.server.namespace,
      taskQueue: embedded.env.taskQueue,
    },
  };
  ctx.out.info(
    [
      '',
      `Temporal dev server  ${embedded.server.address} (namespace ${embedded.server.namespace}, in memory)`,
      `Temporal Web UI      ${embedded.server.uiUrl ?? 'off'}`,
      `Azure simulator      ${embedded.sim.info.armEndpoint} (demo scenario; control ${embedded.sim.info.controlUrl})`,
    ].join('\n'),
  );
  try {
    const t = await connectClient(own);
    let result: MigrationResult;
    const workflowId = migrationWorkflowId(plan);
    const link = workflowLink(t, workflowId);
    try {
      await startMigration(t, plan, DEMO_INITIATOR, {
        planFile: path.basename(planFile),
        workflowIdConflictPolicy: 'FAIL',
      });
      ctx.out.info(
        `\nMigrating ${plan.target.name} (${plan.changeTicket}) — workflow ${workflowId}${link ? `\nWeb UI: ${link}` : ''}\n`,
      );
      const seen = new Map<string, string>();
      while ((await executionStatus(t, workflowId)) === 'RUNNING') {
        // Undefined until the worker has run the first workflow task.
        const p = await queryProgress(t, workflowId);
        if (!p) {
          await new Promise((r) => setTimeout(r, 300));
          continue;
        }
        for (const s of p.stages) {
          const line = `${s.status}${s.detail ? ` — ${s.detail}` : ''}`;
          if (s.status !== 'pending' && seen.get(s.id) !== line) {
            seen.set(s.id, line);
            ctx.out.info(`  ${s.title}: ${line}`);
          }
        }
        if (p.pendingGate) {
          ctx.out.info(`  → approving "${p.pendingGate.title}" as ${DEMO_APPROVER}`);
          await decide(t, workflowId, 'approve', {
            approver: DEMO_APPROVER,
            comment: 'approved automatically by cutover demo',
            gate: p.pendingGate.gate,
          });
        }
        await new Promise((r) => setTimeout(r, 300));
      }
      result = await awaitResult(t, workflowId);
      for (const s of result.evidence.stages) {
        const line = `${s.status}${s.detail ? ` — ${s.detail}` : ''}`;
        if (s.status !== 'pending' && s.id !== 'evidence' && seen.get(s.id) !== line)
          ctx.out.info(`  ${s.title}: ${line}`);
      }
    } finally {
      await t.close();
    }
    ctx.out.info(`\nOutcome: ${result.outcome}${result.reason ? ` (${result.reason})` : ''}\n`);
    const written = await writeEvidenceFiles(result.evidence, ctx.config.evidenceDir);
    ctx.out.result({ ...result, evidenceFiles: [written.jsonPath, written.markdownPath], link }, () =>
      [
        renderEvidenceMarkdown(result.evidence),
        `Evidence: ${written.jsonPath}`,
        `          ${written.markdownPath}`,
        ...(link ? [`Web UI:   ${link}`] : []),
      ].join('\n'),
    );
    if (opts.keepRunning ?? ctx.terminal.stdoutIsTTY) {
      ctx.out.info('\nThe environment stays up so you can explore the Web UI; press Ctrl-C to stop.');
      await untilSignal();
    }
    if (result.outcome !== 'succeeded')
      throw new UserError(`the demo migration ended ${result.outcome}`, 'see the evidence above and the Web UI');
    return result;
  } finally {
    await embedded.stop();
  }
}
