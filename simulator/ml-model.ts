/**
 * Azure Machine Learning as the simulator models it: workspaces (Microsoft.MachineLearningServices/workspaces) with
 * their managed identities, their connections (an Azure OpenAI connection by key or by Entra ID) and computes with
 * identities of their own.
 */
import type { ArmResource } from './model';

/** A workspace connection. `credentials` (the key of an `ApiKey` connection) never leaves but by `listsecrets`. */
export interface MlConnection {
  name: string;
  /** `ApiKey`, `AAD`, `None`, `PAT`, … as the caller spelt one of Azure's values. */
  authType: string;
  category: string;
  target: string;
  credentials?: Record<string, string>;
  metadata: Record<string, string>;
  /** Other properties the caller gave (isSharedToAll, expiryTime, …), kept as given. */
  extra: Record<string, unknown>;
  createdAt: number;
  modifiedAt: number;
}

/** A compute of a workspace (a compute instance or cluster) and the identities code running on it gets. */
export interface MlCompute {
  name: string;
  computeType: string;
  systemPrincipalId?: string;
  userAssigned: string[];
}

export interface MlWorkspace extends ArmResource {
  systemPrincipalId?: string;
  userAssigned: string[];
  /** The user-assigned identity that represents the workspace, when it has one. */
  primaryUserAssignedIdentity?: string;
  /** By lower-cased name. */
  connections: Record<string, MlConnection>;
  /** By lower-cased name. */
  computes: Record<string, MlCompute>;
  tags: Record<string, string>;
}

export function mlWorkspaceId(subscriptionId: string, rg: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/Microsoft.MachineLearningServices/workspaces/${name}`;
}
