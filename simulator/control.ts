/**
 * The control API over HTTP (`/_control/…`): the same operations the in-process `Simulator.control` offers, for
 * other processes (the CLI, benchmarks). Loopback only, like the rest of the simulator.
 *
 *   GET    /_control/info                      endpoints (no secrets)
 *   GET    /_control/state                     full state (includes secrets)
 *   POST   /_control/reset                     back to the loaded scenario
 *   POST   /_control/end-waits                 ends the simulated waits in progress now ({ ended })
 *   POST   /_control/scenario                  load a scenario (YAML or JSON body)
 *   GET    /_control/faults                    list; POST adds one (JSON FaultSpec); DELETE clears
 *   GET    /_control/delays                    current delays; PUT/PATCH/POST merges (JSON)
 *   GET    /_control/throttling                current throttling; PUT/PATCH/POST merges (JSON)
 *   GET    /_control/behavior                  behaviour switches; PUT/PATCH/POST merges (JSON)
 *   GET    /_control/vault-uri?name=           a key vault's URI
 *   GET    /_control/paging                    ARM list page size; PUT/PATCH/POST merges ({ pageSize })
 *   GET    /_control/requests[?since=ISO]      request log; DELETE clears it
 *   GET    /_control/secrets                   every secret issued or held
 *   GET    /_control/credentials/{principal}   a service principal's { tenantId, clientId, clientSecret }
 *   GET    /_control/site-url?resourceGroup=&name=&slot=
 *   GET    /_control/logs[?workspace=]               AzureDiagnostics rows written (ingested or not; no secrets)
 *   PUT    /_control/groups/{group}/members    replace an Entra group's members (JSON array of member specs)
 *   POST   /_control/call-account              { account, key?|token?, ip?, userAgent?, deployment?, message? }
 */
import { type MemberSpec } from './groups';
import { type SimRequest, type SimResponse, SimError, isRecord } from './http';
import { parseScenarioText, throttlingSchema } from './scenario-schema';
import { type CallAccountOptions, type SimulatorControl, type SimulatorInfo } from './types';

function parseJson(req: SimRequest): unknown {
  if (req.body.length === 0) return {};
  try {
    return JSON.parse(req.body.toString('utf8')) as unknown;
  } catch {
    throw new SimError(400, 'InvalidJson', 'The body is not valid JSON.');
  }
}

export async function handleControl(
  control: SimulatorControl,
  info: SimulatorInfo,
  req: SimRequest,
): Promise<SimResponse> {
  const path = req.path.replace(/^\/_control/i, '').replace(/\/+$/, '') || '/';
  const m = req.method;
  try {
    if (path === '/info' && m === 'GET') return { status: 200, body: info };
    if (path === '/state' && m === 'GET') return { status: 200, body: control.state() };
    if (path === '/end-waits' && m === 'POST') return { status: 200, body: { ended: control.endWaits() } };
    if (path === '/reset' && m === 'POST') {
      await control.reset();
      return { status: 200, body: { status: 'reset' } };
    }
    if (path === '/scenario' && (m === 'POST' || m === 'PUT')) {
      await control.loadScenario(parseScenarioText(req.body.toString('utf8'), 'request body'));
      return { status: 200, body: { status: 'loaded' } };
    }
    if (path === '/faults') {
      if (m === 'GET') return { status: 200, body: control.state().faults };
      if (m === 'POST') {
        const spec = parseJson(req);
        if (!isRecord(spec)) throw new SimError(400, 'InvalidFault', 'A fault is a JSON object.');
        return { status: 201, body: control.addFault(spec) };
      }
      if (m === 'DELETE') {
        control.clearFaults();
        return { status: 204 };
      }
    }
    if (path === '/delays') {
      if (m === 'GET') return { status: 200, body: control.state().delays };
      if (m === 'PUT' || m === 'PATCH' || m === 'POST') {
        const d = parseJson(req);
        if (!isRecord(d)) throw new SimError(400, 'InvalidDelays', 'Delays are a JSON object of numbers.');
        return { status: 200, body: control.setDelays(d) };
      }
    }
    if (path === '/throttling') {
      if (m === 'GET') return { status: 200, body: control.state().throttling };
      if (m === 'PUT' || m === 'PATCH' || m === 'POST') {
        const t = throttlingSchema.safeParse(parseJson(req));
        if (!t.success)
          throw new SimError(
            400,
            'InvalidThrottling',
            t.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          );
        return { status: 200, body: control.setThrottling(t.data) };
      }
    }
    if (path === '/behavior') {
      if (m === 'GET') return { status: 200, body: control.state().behavior };
      if (m === 'PUT' || m === 'PATCH' || m === 'POST') {
        const b = parseJson(req);
        if (!isRecord(b)) throw new SimError(400, 'InvalidBehavior', 'Behaviour is a JSON object.');
        return { status: 200, body: control.setBehavior(b) };
      }
    }
    if (path === '/vault-uri' && m === 'GET')
      return { status: 200, body: { uri: control.vaultUri(req.url.searchParams.get('name') ?? '') } };
    if (path === '/paging') {
      if (m === 'GET') return { status: 200, body: control.state().paging };
      if (m === 'PUT' || m === 'PATCH' || m === 'POST') {
        const p = parseJson(req);
        if (!isRecord(p) || Object.keys(p).some((k) => k !== 'pageSize'))
          throw new SimError(400, 'InvalidPaging', 'Paging is a JSON object { "pageSize": <positive integer> }.');
        return { status: 200, body: control.setPaging(p) };
      }
    }
    if (path === '/requests') {
      if (m === 'GET') {
        const since = req.url.searchParams.get('since');
        const log = control.requests();
        return { status: 200, body: since ? log.filter((r) => r.time >= since) : log };
      }
      if (m === 'DELETE') {
        control.clearRequests();
        return { status: 204 };
      }
    }
    if (path === '/secrets' && m === 'GET') return { status: 200, body: control.secrets() };
    const cred = /^\/credentials\/([^/]+)$/.exec(path);
    if (cred && m === 'GET') return { status: 200, body: control.credentials(decodeURIComponent(cred[1])) };
    if (path === '/site-url' && m === 'GET') {
      const q = req.url.searchParams;
      return {
        status: 200,
        body: { url: control.siteUrl(q.get('resourceGroup') ?? '', q.get('name') ?? '', q.get('slot') ?? undefined) },
      };
    }
    const members = /^\/groups\/([^/]+)\/members$/.exec(path);
    if (members && (m === 'PUT' || m === 'POST')) {
      const list = parseJson(req);
      if (!Array.isArray(list)) throw new SimError(400, 'InvalidGroupMembers', 'The body is a JSON array of members.');
      return { status: 200, body: control.setGroupMembers(decodeURIComponent(members[1]), list as MemberSpec[]) };
    }
    if (path === '/logs' && m === 'GET')
      return { status: 200, body: control.logs(req.url.searchParams.get('workspace') ?? undefined) };
    if (path === '/call-account' && m === 'POST') {
      const o = parseJson(req);
      if (!isRecord(o) || typeof o.account !== 'string')
        throw new SimError(400, 'InvalidCall', "A call is a JSON object with at least 'account'.");
      return { status: 200, body: await control.callAccount(o as unknown as CallAccountOptions) };
    }
    throw new SimError(404, 'NotFound', `No control route ${m} ${req.path}.`);
  } catch (err) {
    if (err instanceof SimError)
      return { status: err.status, body: { error: { code: err.code, message: err.message } } };
    return { status: 400, body: { error: { code: 'BadRequest', message: (err as Error).message } } };
  }
}
