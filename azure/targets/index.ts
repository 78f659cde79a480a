/** The registry of caller kinds: one adapter per kind. */
import type { TargetAdapter } from './adapter';
import { aiSearch } from './ai-search';
import { appService } from './app-service';
import { containerApp } from './container-apps';
import { functionApp } from './functions';
import { mlConnection } from './ml-connections';

const ADAPTERS: Readonly<Record<string, TargetAdapter>> = {
  [appService.kind]: appService,
  [functionApp.kind]: functionApp,
  [containerApp.kind]: containerApp,
  [mlConnection.kind]: mlConnection,
  [aiSearch.kind]: aiSearch,
};

/** The adapter for a caller kind (App Service when the ref predates kinds). */
export function targetAdapter(kind: string | undefined = appService.kind): TargetAdapter {
  const adapter = ADAPTERS[kind];
  if (!adapter) throw new Error(`no target adapter for kind ${kind}`);
  return adapter;
}

/** The kind whose adapter recognises Azure's kind of a resource (`functionapp,linux` → function-app). */
export function kindOfResource(resourceKind: string): string | undefined {
  return Object.values(ADAPTERS).find((a) => a.isKind(resourceKind))?.kind;
}

export type { HostingFinding, TargetAdapter, TargetView, IdentityView, IdentityPatch } from './adapter';
