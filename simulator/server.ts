/**
 * The simulator's single HTTPS listener and its routing by path:
 *   /_control/…                         control API
 *   /msi/token                          App Service managed-identity endpoint
 *   /aoai/{subdomain}/…, /aoai-regional/{region}/…   Azure OpenAI data plane
 *   /cog/{subdomain}/…                   an AIServices account's Cognitive Services endpoint (OpenAI paths)
 *   /sites/{name}[/slots/{slot}]/…      the simulated apps' front door
 *   /containerapps/{app}[--{suffix}]/…  container apps' ingress (by traffic weight) and revision FQDNs
 *   /mlworkspaces/{ws}/…                code in a Machine Learning workspace calling through a connection
 *   /search/{service}/…                 AI Search services' data plane (search.ts)
 *   /{tenant}/…, /common/discovery/…    Entra ID
 *   everything else                     Azure Resource Manager
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { authorizationRoutes } from './arm/authorization';
import { cognitiveRoutes } from './arm/cognitive';
import { keyVaultRoutes } from './arm/keyvault';
import { subscriptionRoutes } from './arm/subscriptions';
import { webReferenceRoutes } from './arm/web-references';
import { type Behavior, parseBehavior } from './behavior';
import { ArmRouter } from './arm/router';
import { webRoutes } from './arm/web';
import { serverFarmRoutes } from './arm/server-farms';
import { containerAppRoutes } from './arm/container-apps';
import { CONTAINER_APPS_PATH } from './container-apps';
import { mlWorkspaceRoutes } from './arm/ml-workspaces';
import { ML_WORKSPACES_PATH, handleMlRequest } from './ml-workspaces';
import { searchRoutes } from './arm/search';
import { handleSearch } from './search';
import { SEARCH_PATH } from './search-model';
import { ensurePki } from './certs';
import { handleControl } from './control';
import { SimCore, type RequestLogEntry } from './core';
import { type DataPlaneResult, accountOfPath, handleDataPlane } from './dataplane';
import { monitorRoutes } from './arm/monitor';
import { handleLogAnalytics, handleMetrics } from './monitor-api';
import { outboundIps } from './monitor';
import { handleEntra } from './entra';
import { handleVaultRequest } from './keyvault';
import { type SimRequest, type SimResponse, SimError, errorResponse, readBody, send, sleep } from './http';
import { type Delays, type Throttling } from './knobs';
import { PRODUCTION, key, slotResourceId } from './model';
import { handleMsi } from './msi';
import { type Scenario, membersSchema } from './scenario-schema';
import { type MemberSpec, findGroup, resolveMember, setMembers } from './groups';
import {
  type ServicePrincipalCredentials,
  type Simulator,
  type SimulatorControl,
  type SimulatorInfo,
  type StartSimulatorOptions,
  type CallAccountOptions,
} from './types';
import { accountEndpoint } from './scenario';
import { VaultHosts } from './vault-hosts';

const CHAT_OPERATION = 'Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action';

export function defaultDataDir(): string {
  return path.join(os.homedir(), '.cutover', 'simulator');
}

class SimulatorServer implements Simulator {
  info!: SimulatorInfo;
  control!: SimulatorControl;
  core!: SimCore;
  private arm!: ArmRouter;
  private closing?: Promise<void>;

  constructor(
    private readonly server: Server,
    private readonly options: StartSimulatorOptions,
    private readonly vaultHosts?: VaultHosts,
  ) {}

  async init(caCertPath: string, caCert: string, signingKey: string, baseUrl: string): Promise<void> {
    const log = this.options.log ?? (() => undefined);
    this.core = new SimCore({
      baseUrl,
      caCertPath,
      signingKey,
      log,
      ...(this.options.profile ? { profile: this.options.profile } : {}),
      ...(this.options.appRuntime ? { appRuntime: this.options.appRuntime } : {}),
      ...(this.options.requestLogLimit ? { requestLogLimit: this.options.requestLogLimit } : {}),
      ...(this.options.stateFile ? { stateFile: this.options.stateFile } : {}),
      ...(this.vaultHosts ? { vaultHosts: (names, preferred) => this.vaultHosts!.ensure(names, preferred) } : {}),
    });
    this.arm = new ArmRouter(this.core);
    this.arm.add([...webRoutes, ...serverFarmRoutes, ...cognitiveRoutes, ...authorizationRoutes]);
    this.arm.add([...keyVaultRoutes, ...subscriptionRoutes, ...webReferenceRoutes, ...monitorRoutes]);
    this.arm.add(containerAppRoutes);
    this.arm.add(mlWorkspaceRoutes);
    this.arm.add(searchRoutes);
    this.control = this.makeControl();
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.dispatch(req, res).catch((err: unknown) => {
        log(`request ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
        if (!res.headersSent)
          send(res, errorResponse(new SimError(500, 'InternalServerError', 'An internal server error occurred.')));
        else res.destroy();
      });
    });
    await this.core.load(this.options.scenario ?? 'demo', { preferStateFile: true });
    this.info = this.makeInfo(caCertPath, caCert, baseUrl);
    this.writeCredentials();
  }

  private makeInfo(caCertPath: string, caCert: string, baseUrl: string): SimulatorInfo {
    const sub = Object.values(this.core.state.subscriptions)[0];
    return {
      armEndpoint: baseUrl,
      authorityHost: baseUrl,
      tenantId: sub.tenantId,
      subscriptionId: sub.id,
      caCertPath,
      caCert,
      controlUrl: `${baseUrl}/_control`,
      logsEndpoint: `${baseUrl}/loganalytics/v1`,
      metricsEndpoint: `${baseUrl}/metrics`,
      ...(this.credentialsFile ? { credentialsFile: this.credentialsFile } : {}),
    };
  }

  private get credentialsFile(): string | undefined {
    return this.options.credentialsFile?.replace('{port}', new URL(this.core.baseUrl).port);
  }

  private writeCredentials(): void {
    const file = this.credentialsFile;
    if (!file) return;
    const creds = Object.fromEntries(this.core.servicePrincipals.map((n) => [n, this.control.credentials(n)]));
    writeFileSync(
      file,
      `${JSON.stringify({ tenantId: this.info.tenantId, subscriptionId: this.info.subscriptionId, servicePrincipals: creds }, null, 2)}\n`,
      { mode: 0o600 },
    );
    chmodSync(file, 0o600);
  }

  private makeControl(): SimulatorControl {
    const core = this.core;
    return {
      state: () => ({
        ...structuredClone(core.state),
        profile: core.profile,
        delays: { ...core.delays },
        throttling: structuredClone(core.throttler.config),
        behavior: { ...core.behavior },
        paging: { ...core.paging },
        faults: structuredClone(core.faults.faults),
        apps: core.apps.status(),
      }),
      reset: async () => {
        await core.reset();
        this.writeCredentials();
      },
      loadScenario: async (scenario: string | Scenario) => {
        await core.load(scenario, { preferStateFile: false });
        core.requestLog = [];
        this.info = this.makeInfo(this.info.caCertPath, this.info.caCert, this.info.armEndpoint);
        this.writeCredentials();
      },
      addFault: (f) => core.faults.add(f),
      clearFaults: () => core.faults.clear(),
      endWaits: () => core.endWaits(),
      setDelays: (d: Partial<Delays>) => {
        for (const [k, v] of Object.entries(d)) {
          if (!(k in core.delays)) throw new SimError(400, 'InvalidDelays', `unknown delay '${k}'`);
          if (typeof v !== 'number' || !(v >= 0))
            throw new SimError(400, 'InvalidDelays', `delay '${k}' must be a non-negative number`);
        }
        core.delays = { ...core.delays, ...d };
        return { ...core.delays };
      },
      setBehavior: (b: Partial<Behavior>) => {
        try {
          core.behavior = { ...core.behavior, ...parseBehavior(b) };
        } catch (err) {
          throw new SimError(400, 'InvalidBehavior', (err as Error).message);
        }
        return { ...core.behavior };
      },
      vaultUri: (name: string) => {
        if (!core.vaultUris[name.toLowerCase()]) throw new SimError(404, 'NotFound', `No key vault named '${name}'.`);
        return core.vaultUri(name);
      },
      setThrottling: (t: Partial<Throttling>) => {
        core.throttler.set(t);
        return structuredClone(core.throttler.config);
      },
      setGroupMembers: (name: string, members: MemberSpec[]) => {
        const group = findGroup(core.state, name);
        if (!group) throw new SimError(404, 'GroupNotFound', `No group '${name}'.`);
        const fail = (m: string): never => {
          throw new SimError(400, 'InvalidGroupMembers', m);
        };
        const parsed = membersSchema.safeParse(members);
        if (!parsed.success)
          return fail(parsed.error.issues.map((i) => `members.${i.path.join('.')}: ${i.message}`).join('; '));
        const ids = parsed.data.map((m, i) => resolveMember(core.state, m, (msg) => fail(`members.${i}: ${msg}`)));
        setMembers(core.state, group, ids, fail);
        core.persist();
        core.log(`group ${group.name}: ${group.members.length} member(s)`);
        return structuredClone(group);
      },
      setPaging: (p) => {
        if (p.pageSize !== undefined && !(Number.isInteger(p.pageSize) && p.pageSize >= 1))
          throw new SimError(400, 'InvalidPaging', "'pageSize' must be a positive integer");
        core.paging = { ...core.paging, ...p };
        return { ...core.paging };
      },
      requests: (): RequestLogEntry[] => [...core.requestLog],
      clearRequests: () => {
        core.requestLog = [];
      },
      secrets: () => core.secrets(),
      credentials: (name: string): ServicePrincipalCredentials => {
        const p = core.principalByName(name);
        if (!p || p.kind !== 'Application' || !p.secret)
          throw new SimError(404, 'PrincipalNotFound', `No service principal named '${name}'.`);
        return { tenantId: p.tenantId, clientId: p.clientId, clientSecret: p.secret };
      },
      logs: (workspace?: string) => {
        const all = Object.values(core.state.workspaces);
        const w = workspace?.toLowerCase();
        const chosen = w ? all.filter((x) => [x.name, x.id, x.customerId].some((v) => v.toLowerCase() === w)) : all;
        if (w && chosen.length === 0) throw new SimError(404, 'NotFound', `No workspace '${workspace}'.`);
        return chosen.flatMap((x) => core.telemetry.allRows(key(x.id)).map((r) => ({ ...r, workspace: x.name })));
      },
      callAccount: (o: CallAccountOptions) => this.callAccount(o),
      siteUrl: (resourceGroup: string, name: string, slot?: string) => {
        const site = Object.values(core.state.sites).find(
          (s) => key(s.resourceGroup) === key(resourceGroup) && key(s.name) === key(name),
        );
        if (!site) throw new SimError(404, 'NotFound', `No site '${name}' in resource group '${resourceGroup}'.`);
        return core.siteUrl(site, slot);
      },
    };
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', this.core.baseUrl);
    const rawPath = (req.url ?? '/').split('?')[0];
    const simReq: SimRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      url,
      path: rawPath,
      headers: req.headers,
      body,
      ...(req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {}),
    };

    if (/^\/_control(\/|$)/i.test(rawPath)) {
      send(res, await handleControl(this.control, this.info, simReq));
      return;
    }
    const front = /^\/sites\/([^/]+)(?:\/slots\/([^/]+))?(\/.*)?$/i.exec(rawPath);
    if (front) {
      this.frontDoor(simReq, req, res, front);
      return;
    }
    const containerApp = new RegExp(`^${CONTAINER_APPS_PATH}/([^/]+)(/.*)?$`, 'i').exec(rawPath);
    if (containerApp) {
      const record = (status: number) =>
        this.core.record({ surface: 'frontdoor', method: simReq.method, path: simReq.path, status });
      res.once('finish', () => record(res.statusCode));
      this.core.containerApps.proxy(
        decodeURIComponent(containerApp[1]),
        `${containerApp[2] ?? '/'}${url.search}`,
        req,
        body,
        res,
      );
      return;
    }
    if (rawPath.toLowerCase().startsWith(`${ML_WORKSPACES_PATH}/`)) {
      const out = (await handleMlRequest(this.core, simReq)) ?? { status: 404, body: { error: 'not found' } };
      this.core.record({ surface: 'frontdoor', method: simReq.method, path: simReq.path, status: out.status });
      send(res, out);
      return;
    }
    if (new RegExp(`^${SEARCH_PATH}/`, 'i').test(rawPath)) {
      const out = (await handleSearch(this.core, simReq))!;
      this.core.record({ surface: 'search', method: simReq.method, path: simReq.path, status: out.status });
      send(res, out);
      return;
    }
    if (/^\/(aoai|aoai-regional|cog|msi|loganalytics|metrics)\//i.test(rawPath) || handleEntraPath(rawPath)) {
      send(res, await this.handleSurface(simReq));
      return;
    }
    send(res, await this.arm.handle(simReq));
  }

  /** A request on a vault's own port (the Key Vault data plane). */
  handleVault(vaultName: string, req: IncomingMessage, res: ServerResponse): void {
    void (async () => {
      const body = await readBody(req);
      const simReq: SimRequest = {
        method: (req.method ?? 'GET').toUpperCase(),
        url: new URL(req.url ?? '/', this.core.vaultUri(vaultName)),
        path: (req.url ?? '/').split('?')[0],
        headers: req.headers,
        body,
      };
      send(res, await handleVaultRequest(this.core, vaultName, this.core.vaultUri(vaultName), simReq));
    })().catch((err: unknown) => {
      this.core.log(`vault ${vaultName} ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent)
        send(res, errorResponse(new SimError(500, 'InternalServerError', 'An internal server error occurred.')));
      else res.destroy();
    });
  }

  /** Entra, managed identity and data plane: faults, latency, the handler, then the request log. */
  private async handleSurface(req: SimRequest): Promise<SimResponse> {
    const core = this.core;
    const started = core.now();
    const surface: RequestLogEntry['surface'] = /^\/(aoai|cog)/i.test(req.path)
      ? 'dataplane'
      : /^\/msi\//i.test(req.path)
        ? 'msi'
        : /^\/loganalytics\//i.test(req.path)
          ? 'loganalytics'
          : /^\/metrics\//i.test(req.path)
            ? 'metrics'
            : 'entra';
    const operation = surface === 'dataplane' ? CHAT_OPERATION : undefined;
    const injected = core.faults.take({
      method: req.method,
      path: req.path + req.url.search,
      ...(operation ? { operation } : {}),
    });
    const d = core.delays;
    const latency =
      injected.latencyMs +
      (surface === 'dataplane' ? d.dataPlaneLatencyMs : surface === 'msi' ? d.msiLatencyMs : d.tokenLatencyMs);
    if (latency > 0) await sleep(latency);
    let result: { response: SimResponse; principal?: string; subscription?: string; call?: DataPlaneResult['call'] };
    if (injected.fault?.status !== undefined) {
      const f = injected.fault;
      const err = new SimError(
        f.status!,
        f.code ?? 'InjectedFault',
        f.message ?? `Injected fault (HTTP ${f.status}).`,
        f.retryAfterSec !== undefined ? { 'retry-after': String(f.retryAfterSec) } : {},
      );
      const account = surface === 'dataplane' ? accountOfPath(core, req.path) : undefined;
      result = {
        response: errorResponse(err),
        ...(surface === 'dataplane'
          ? { call: { ...(account ? { account } : {}), objectId: '', operationName: 'ChatCompletions_Create' } }
          : {}),
      };
    } else if (surface === 'dataplane') {
      result = handleDataPlane(core, req) ?? {
        response: errorResponse(new SimError(404, '404', 'Resource not found')),
      };
    } else if (surface === 'loganalytics') {
      result = handleLogAnalytics(core, req);
    } else if (surface === 'metrics') {
      result = handleMetrics(core, req);
    } else if (surface === 'msi') {
      result = handleMsi(core, req);
    } else {
      result = handleEntra(core, req) ?? { response: errorResponse(new SimError(404, 'NotFound', 'Not found.')) };
    }
    const code = errorCode(result.response.body);
    if (result.call?.account) {
      const ua = req.headers['user-agent'];
      core.telemetry.recordDataPlane(core.state, {
        time: started,
        durationMs: Math.max(0, core.now() - started),
        status: result.response.status,
        account: result.call.account,
        operationName: result.call.operationName,
        ...(result.call.deployment ? { deployment: result.call.deployment } : {}),
        ...(req.url.searchParams.get('api-version') ? { apiVersion: req.url.searchParams.get('api-version')! } : {}),
        objectId: result.call.objectId,
        callerIp: this.callerIp(req),
        ...(typeof ua === 'string' && ua ? { userAgent: ua } : {}),
      });
    }
    core.record({
      surface,
      method: req.method,
      path: req.path,
      ...(operation ? { operation } : {}),
      status: result.response.status,
      ...(result.principal ? { principal: result.principal } : {}),
      ...(result.subscription ? { subscription: result.subscription } : {}),
      ...(result.response.status >= 400 && code ? { code } : {}),
    });
    core.log(`${surface} ${req.method} ${req.path} -> ${result.response.status}${code ? ` ${code}` : ''}`);
    return result.response;
  }

  private async callAccount(o: CallAccountOptions): Promise<{ status: number; code?: string }> {
    const core = this.core;
    const account = Object.values(core.state.accounts).find((a) => key(a.name) === key(o.account ?? ''));
    if (!account) throw new SimError(404, 'NotFound', `No account named '${o.account}'.`);
    const deployment = o.deployment ?? Object.values(account.deployments)[0]?.name ?? 'gpt-4o-mini';
    const url = new URL(
      `openai/deployments/${encodeURIComponent(deployment)}/chat/completions?api-version=2024-10-21`,
      accountEndpoint(core.baseUrl, account),
    );
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (o.key !== undefined)
      headers['api-key'] = o.key === 1 ? account.key1 : o.key === 2 ? account.key2 : String(o.key);
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.userAgent) headers['user-agent'] = o.userAgent;
    if (o.ip) {
      headers['x-sim-control-marker'] = core.controlMarker;
      headers['x-sim-caller-ip'] = o.ip;
    }
    const body = JSON.stringify({ messages: [{ role: 'user', content: o.message ?? 'hello' }] });
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { method: 'POST', headers, ca: this.info.caCert, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let code: string | undefined;
          try {
            code = errorCode(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            code = undefined;
          }
          const status = res.statusCode ?? 0;
          resolve({ status, ...(status >= 400 && code ? { code } : {}) });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * The address a data-plane row shows: a simulated app worker's site's outbound IP (its egress token, which only the
   * simulator and that worker know), the address the control API's `callAccount` chose (its marker), else the socket's.
   */
  private callerIp(req: SimRequest): string {
    const egress = req.headers['x-sim-egress'];
    if (typeof egress === 'string') {
      const worker = this.core.apps.resolveEgressToken(egress);
      const site = worker ? this.core.site(worker.siteKey) : undefined;
      if (site) return outboundIps(site)[0];
    }
    const chosen = req.headers['x-sim-caller-ip'];
    if (req.headers['x-sim-control-marker'] === this.core.controlMarker && typeof chosen === 'string' && chosen)
      return chosen;
    return (req.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  }

  private frontDoor(simReq: SimRequest, req: IncomingMessage, res: ServerResponse, m: RegExpExecArray): void {
    const core = this.core;
    const site = core.siteByName(decodeURIComponent(m[1]));
    const slot = m[2] ? decodeURIComponent(m[2]).toLowerCase() : PRODUCTION;
    const rest = `${m[3] ?? '/'}${simReq.url.search}`;
    const started = core.now();
    const record = (status: number) => {
      core.record({ surface: 'frontdoor', method: simReq.method, path: simReq.path, status });
      if (site?.slots[slot]) core.telemetry.recordFrontDoor(slotResourceId(site, slot), started, status);
    };
    if (!site || !site.slots[slot]) {
      record(404);
      send(res, { status: 404, text: `<h1>404 Web Site not found.</h1>`, headers: { 'content-type': 'text/html' } });
      return;
    }
    res.once('finish', () => record(res.statusCode));
    core.apps.proxy(site, slot, rest, req, simReq.body, res);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.core?.close();
      await this.vaultHosts?.close();
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
    })();
    return this.closing;
  }
}

function handleEntraPath(p: string): boolean {
  return (
    /^\/[^/]+\/(v2\.0\/\.well-known\/|\.well-known\/|oauth2\/|discovery\/)/i.test(p) ||
    /^\/(common|organizations)\/discovery\//i.test(p)
  );
}

function errorCode(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { error?: unknown; message?: unknown };
  if (typeof b.error === 'string') return b.error;
  const code = typeof b.error === 'object' && b.error !== null ? (b.error as { code?: unknown }).code : undefined;
  if (typeof code === 'string') return code;
  return undefined;
}

export async function startSimulator(options: StartSimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? '127.0.0.1';
  const pki = await ensurePki(options.dataDir ?? defaultDataDir());
  const server = createServer({ key: pki.serverKey, cert: pki.serverCert, keepAliveTimeout: 5_000 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const vaultHosts = new VaultHosts({ key: pki.serverKey, cert: pki.serverCert }, host, (name, req, res) =>
    sim.handleVault(name, req, res),
  );
  const sim: SimulatorServer = new SimulatorServer(server, options, vaultHosts);
  try {
    await sim.init(
      pki.caCertPath,
      pki.caCert,
      pki.signingKey,
      `https://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    );
  } catch (err) {
    await sim.close().catch(() => undefined);
    throw err;
  }
  return sim;
}
