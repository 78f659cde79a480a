/** The simulator's public types: what `startSimulator` takes and returns. */
import { type AppStatus } from './apps';
import { type AppRuntime } from './app-runtime';
import { type Behavior } from './behavior';
import { type RequestLogEntry } from './core';
import { type Paging } from './arm/paging';
import { type Delays, type Fault, type FaultSpec, type Profile, type Throttling } from './knobs';
import { type MemberSpec } from './groups';
import { type Group, type SimState } from './model';
import { type Scenario } from './scenario-schema';

export interface StartSimulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  host?: string;
  /** `'demo'` (default), a scenario file path, or a scenario object. */
  scenario?: string | Scenario;
  /** Persist the state here (0600) after every change and restore it on the next start. */
  stateFile?: string;
  /** CA, server certificate and token-signing key live here (created on first start). Default ~/.cutover/simulator. */
  dataDir?: string;
  /** `fast` (default: no artificial delays) or `realistic` (Azure-like latencies, propagation, restarts). */
  profile?: Profile;
  /**
   * What runs the simulated apps' workers: `process` (one child process per site/slot instance, full fidelity) or
   * `in-process` (the same app handler inside the simulator's process, for fleets of hundreds of sites). Wins over
   * the scenario's `apps.runtime`; default `process`.
   */
  appRuntime?: AppRuntime;
  /** Entries the request log keeps (the newest; 20,000 by default): a benchmark counting every request raises it. */
  requestLogLimit?: number;
  /** Log sink (one line per event; never secrets). Default: silent. */
  log?: (line: string) => void;
  /**
   * Write the service principals' credentials here (0600) at start and after every scenario load or reset;
   * `{port}` in the path is replaced by the listening port.
   */
  credentialsFile?: string;
}

export interface SimulatorInfo {
  armEndpoint: string;
  authorityHost: string;
  /** Tenant of the first subscription. */
  tenantId: string;
  /** The scenario's first subscription. */
  subscriptionId: string;
  caCertPath: string;
  caCert: string;
  controlUrl: string;
  /** Log Analytics query API: `LogsQueryClient`'s `endpoint` option (`https://127.0.0.1:PORT/loganalytics/v1`). */
  logsEndpoint: string;
  /** Azure Monitor metrics batch API: `MetricsClient`'s endpoint (`https://127.0.0.1:PORT/metrics`). */
  metricsEndpoint: string;
  /** The credentials file, when `credentialsFile` was given. */
  credentialsFile?: string;
}

export interface ServicePrincipalCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

export interface SimulatorStateView extends SimState {
  profile: Profile;
  delays: Delays;
  throttling: Throttling;
  behavior: Behavior;
  paging: Paging;
  faults: Fault[];
  /** Which worker serves which slot (`{siteId lower-case}|{slot}`). */
  apps: Record<string, AppStatus>;
}

export interface SimulatorControl {
  state(): SimulatorStateView;
  reset(): Promise<void>;
  loadScenario(scenario: string | Scenario): Promise<void>;
  addFault(fault: FaultSpec): Fault;
  clearFaults(): void;
  setDelays(delays: Partial<Delays>): Delays;
  /**
   * Ends every wait in progress (account update LROs, failing swaps, apps' restart times) now, as if its delay had
   * passed; returns how many. Lets a test look at something in progress under a long delay, then finish it without
   * waiting.
   */
  endWaits(): number;
  setThrottling(throttling: Partial<Throttling>): Throttling;
  /** Behaviour switches (`accountUpdateMode`), partial. */
  setBehavior(behavior: Partial<Behavior>): Behavior;
  /** A key vault's URI, `https://127.0.0.1:VAULTPORT/` (each vault has its own port). */
  vaultUri(vaultName: string): string;
  /**
   * Replaces the direct members of an Entra group (by name or objectId); members as a scenario names them. Role
   * assignments to the group apply to the new members from the next request on (no propagation delay); returns the
   * group. Unknown names, another tenant's members and cycles are refused (404 / 400) and leave the group unchanged.
   */
  setGroupMembers(group: string, members: MemberSpec[]): Group;
  /** Items per page of every ARM list (`nextLink` beyond). */
  setPaging(paging: Partial<Paging>): Paging;
  requests(): RequestLogEntry[];
  clearRequests(): void;
  secrets(): string[];
  credentials(principalName: string): ServicePrincipalCredentials;
  siteUrl(resourceGroup: string, name: string, slot?: string): string;
  /**
   * The AzureDiagnostics rows written so far (ingested or not), of one workspace (name, ARM id or customerId) or of
   * all; each with the workspace's name. Rows hold no secrets.
   */
  logs(workspace?: string): (Record<string, string | number> & { workspace: string })[];
  /**
   * Calls an account's real Azure OpenAI data-plane route (chat completions) as a caller outside the simulated
   * apps: with one of the account's keys (`key: 1 | 2`), any other key string, or a bearer token; `ip` and
   * `userAgent` are what its diagnostic row shows (a script on a laptop at 203.0.113.7). Only these calls may choose
   * their IP: the marker that allows it is the simulator's secret.
   */
  callAccount(options: CallAccountOptions): Promise<{ status: number; code?: string }>;
}

export interface CallAccountOptions {
  account: string;
  key?: 1 | 2 | string;
  token?: string;
  ip?: string;
  userAgent?: string;
  /** Default: the account's first deployment. */
  deployment?: string;
  message?: string;
}

export interface Simulator {
  info: SimulatorInfo;
  control: SimulatorControl;
  close(): Promise<void>;
}
