/** The registry of caller kinds: one adapter per kind. */
import type { TargetAdapter } from './adapter';
import { appService } from './app-service';

const ADAPTERS: Readonly<Record<string, TargetAdapter>> = { [appService.kind]: appService };

/** The adapter for a caller kind (App Service when the ref predates kinds). */
export function targetAdapter(kind: string | undefined = appService.kind): TargetAdapter {
  const adapter = ADAPTERS[kind];
  if (!adapter) throw new Error(`no target adapter for kind ${kind}`);
  return adapter;
}

export type { TargetAdapter, TargetView, IdentityView, IdentityPatch } from './adapter';
