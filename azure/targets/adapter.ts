/**
 * What cutover needs of a kind of caller. App Service is the first kind; Functions, Container Apps, AI Search and
 * Machine Learning connections implement the same interface. Generic logic (identity, settings, preflight) works on
 * these views and never on a kind's own SDK types.
 */
import type { IdentitySnapshot, SettingSnapshot, SiteRef } from '../../contracts/model';
import type { MigrationPlan } from '../../plan/schema';
import type { AzureContext } from '../context';

/** A caller's managed identities as Azure reports them. */
export interface IdentityView extends IdentitySnapshot {
  /** The tenant of the system-assigned identity, when it has one. */
  readonly tenantId?: string;
  /** User-assigned identities by resource id, as Azure spells the ids. */
  readonly userAssigned: Readonly<Record<string, { readonly principalId?: string; readonly clientId?: string }>>;
}

export interface TargetView {
  readonly id: string;
  readonly identity: IdentityView;
  /** Where the caller answers by default (its health endpoint is relative to it). */
  readonly defaultUrl: string;
  /** Azure's own kind of the resource (`app,linux`, `functionapp,linux`, …), when it has one. */
  readonly resourceKind?: string;
  /** ARM id of the plan it runs on, when it has one. */
  readonly planId?: string;
}

/** Why the caller's hosting cannot carry the plan (a preflight problem), or what it costs (a warning). */
export interface HostingFinding {
  readonly problem?: string;
  readonly warning?: string;
  readonly hint?: string;
}

/** The identity block to write: `null` detaches a user-assigned identity. */
export interface IdentityPatch {
  readonly type: string;
  readonly userAssignedIdentities?: Readonly<Record<string, object | null>>;
}

export interface TargetAdapter {
  readonly kind: string;
  /** "claims-bot" or "claims-bot/staging": how messages name it. */
  describe(ref: SiteRef): string;
  resourceId(ref: SiteRef): string;
  read(ctx: AzureContext, ref: SiteRef): Promise<TargetView>;
  patchIdentity(ctx: AzureContext, ref: SiteRef, identity: IdentityPatch): Promise<TargetView>;
  readSettings(ctx: AzureContext, ref: SiteRef): Promise<Record<string, string>>;
  /** Replaces the whole settings dictionary (the caller restarts). */
  writeSettings(ctx: AzureContext, ref: SiteRef, settings: Readonly<Record<string, string>>): Promise<void>;
  /** Settings that stay with their slot in a swap. */
  stickySettingNames(ctx: AzureContext, ref: SiteRef): Promise<readonly string[]>;
  /** Swaps `slot` with production; direction only words the error. */
  swap(ctx: AzureContext, ref: SiteRef, slot: string, direction: 'forward' | 'back'): Promise<void>;
  /** ARM actions the worker needs on the caller for this plan's strategy. */
  requiredActions(strategy: MigrationPlan['strategy']): readonly string[];
  /** Whether Azure's kind of the resource is this kind of caller (a plan naming the wrong kind fails preflight). */
  isKind(resourceKind: string): boolean;
  /**
   * How a setting whose value Azure does not show (an AI Search key reads `<redacted>`) is snapshotted; undefined
   * for any other, which is snapshotted by its value.
   */
  snapshotHidden?(plan: MigrationPlan, name: string, value: string | undefined): SettingSnapshot | undefined;
  /** Read-only: what the caller's hosting (its plan) says about the strategy. */
  checkHosting?(ctx: AzureContext, view: TargetView, plan: MigrationPlan): Promise<readonly HostingFinding[]>;
}
