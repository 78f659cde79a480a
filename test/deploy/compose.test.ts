/**
 * The Docker stack (docker-compose.yml, Dockerfile, .dockerignore, deploy/temporal/) cannot run here, so this
 * checks what can be checked without Docker: the files parse, services, ports and dependencies fit together, the
 * worker is configured only through settings cutover really reads (derived from the sources that read them), and
 * the image runs the `worker` command the CLI has.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { SearchAttributeType } from '@temporalio/common';
import { parse, parseDocument } from 'yaml';
import { buildProgram } from '../../cli/main';
import { loadConfig } from '../../config/env';
import { ALL_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | null> | string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  entrypoint?: string[];
  command?: string[];
  restart?: string;
}

function loadCompose(): { name?: string; services: Record<string, Service>; volumes?: Record<string, unknown> } {
  const doc = parseDocument(read('docker-compose.yml'), { uniqueKeys: true });
  assert.deepEqual(doc.errors, [], 'docker-compose.yml is valid YAML');
  return doc.toJS() as ReturnType<typeof loadCompose>;
}

function environment(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => [e.split('=')[0], e.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?message}` interpolation, against `vars`. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    const set = vars[name];
    if (set) return set;
    if (op === '?') throw new Error(`${name} is required: ${arg}`);
    return op === '-' ? (arg ?? '') : '';
  });
}

/** Every file below `dir` with one of the extensions. */
function sourcesUnder(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourcesUnder(full, ext) : ext.test(name) ? [full] : [];
  });
}

function namesIn(files: string[], pattern: RegExp): Set<string> {
  const names = new Set<string>();
  for (const f of files) for (const m of readFileSync(f, 'utf8').matchAll(pattern)) names.add(m[1]);
  return names;
}

/**
 * The environment variables `cutover worker` reads: config/env.ts (the one module that reads the environment),
 * the standard Temporal settings it hands to @temporalio/envconfig, and what DefaultAzureCredential reads.
 */
function variablesTheWorkerReads(): Set<string> {
  const config = namesIn([path.join(ROOT, 'config', 'env.ts')], /\benv\.([A-Z][A-Z0-9_]*)/g);
  const modules = path.join(ROOT, 'node_modules');
  const temporal = namesIn(
    sourcesUnder(path.join(modules, '@temporalio', 'envconfig', 'lib'), /\.js$/),
    /'(TEMPORAL_[A-Z_]*[A-Z])'/g,
  );
  const azure = namesIn(
    sourcesUnder(path.join(modules, '@azure', 'identity', 'dist', 'commonjs'), /\.js$/),
    /process\.env\.(AZURE_[A-Z_]+)/g,
  );
  for (const [what, set, sample] of [
    ['config/env.ts', config, 'CUTOVER_TASK_QUEUE'],
    ['@temporalio/envconfig', temporal, 'TEMPORAL_API_KEY'],
    ['@azure/identity', azure, 'AZURE_CLIENT_SECRET'],
  ] as const)
    assert.ok(set.has(sample), `the scan of ${what} finds ${sample} (found ${[...set].join(', ')})`);
  return new Set([...config, ...temporal, ...azure]);
}

/** The Dockerfile as stages of [instruction, arguments]. */
function dockerfileStages(): { from: string; lines: [string, string][] }[] {
  const text = read('Dockerfile').replace(/\\\n/g, ' ');
  const stages: { from: string; lines: [string, string][] }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [, instruction = '', args = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (instruction.toUpperCase() === 'FROM') stages.push({ from: args, lines: [] });
    else stages.at(-1)?.lines.push([instruction.toUpperCase(), args]);
  }
  return stages;
}

describe('docker-compose.yml', () => {
  const compose = loadCompose();
  const services = compose.services;

  test('has the Temporal server on PostgreSQL, its schema and namespace set-up, the Web UI and the worker', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'cutover-worker',
      'postgresql',
      'temporal',
      'temporal-schema',
      'temporal-setup',
      'temporal-ui',
    ]);
    assert.match(services.postgresql.image!, /^postgres:/);
    assert.match(services.temporal.image!, /^temporalio\/server:/);
    assert.match(services['temporal-ui'].image!, /^temporalio\/ui:/);
    assert.equal(environment(services.temporal).DB, 'postgres12');
    assert.ok(services['cutover-worker'].build, 'the worker image is built from the Dockerfile');
    const tag = (image: string) => interpolate(image.split(':').slice(1).join(':'), {});
    assert.equal(
      tag(services['temporal-schema'].image!),
      tag(services.temporal.image!),
      'the schema tool matches the server version',
    );
    assert.equal(tag(services['temporal-setup'].image!), tag(services.temporal.image!));
  });

  test('every dependency exists, waits in a way the target supports, and there is no cycle', () => {
    for (const [name, service] of Object.entries(services))
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        const target = services[dep];
        assert.ok(target, `${name} depends on an existing service ${dep}`);
        if (condition === 'service_healthy') assert.ok(target.healthcheck, `${dep} has a healthcheck for ${name}`);
        else if (condition === 'service_completed_successfully')
          assert.match(target.restart ?? 'no', /^(no|on-failure(:\d+)?)$/, `${dep} is a one-shot job`);
        else assert.equal(condition, 'service_started');
      }
    const visiting = new Set<string>();
    const visit = (name: string, trail: string[]): void => {
      assert.ok(!trail.includes(name), `dependency cycle: ${[...trail, name].join(' → ')}`);
      if (visiting.has(name)) return;
      visiting.add(name);
      for (const dep of Object.keys(services[name]?.depends_on ?? {})) visit(dep, [...trail, name]);
    };
    for (const name of Object.keys(services)) visit(name, []);
    // The worker starts only once the namespace and the search attributes it sets exist.
    assert.equal(
      services['cutover-worker'].depends_on?.['temporal-setup']?.condition,
      'service_completed_successfully',
    );
    assert.equal(services.temporal.depends_on?.['temporal-schema']?.condition, 'service_completed_successfully');
  });

  test('ports: Temporal gRPC and the Web UI are published once each, on loopback; Temporal is reached by its service name', () => {
    const published = Object.entries(services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => {
        const [ip, host, container] = interpolate(p, {}).split(':');
        return { name, ip, host: Number(host), container: Number(container) };
      }),
    );
    // Temporal here has no authentication or TLS: published on the loopback interface only.
    for (const p of published) assert.equal(p.ip, '127.0.0.1', `${p.name} publishes ${p.host} on loopback only`);
    assert.deepEqual(published.map((p) => `${p.name} ${p.host}:${p.container}`).sort(), [
      'temporal 7233:7233',
      'temporal-ui 8080:8080',
    ]);
    assert.equal(new Set(published.map((p) => p.host)).size, published.length, 'no host port twice');
    for (const name of ['temporal-ui', 'temporal-setup', 'cutover-worker'])
      assert.equal(environment(services[name]).TEMPORAL_ADDRESS, 'temporal:7233', `${name} → temporal:7233`);
    const namespaces = ['temporal-setup', 'cutover-worker'].map((n) => environment(services[n]).TEMPORAL_NAMESPACE);
    namespaces.push(environment(services['temporal-ui']).TEMPORAL_DEFAULT_NAMESPACE);
    assert.equal(new Set(namespaces).size, 1, `one namespace everywhere: ${namespaces.join(', ')}`);
  });

  test('the worker is configured only through settings cutover worker reads, and holds no secret', () => {
    const reads = variablesTheWorkerReads();
    const env = environment(services['cutover-worker']);
    for (const name of Object.keys(env)) assert.ok(reads.has(name), `cutover worker reads ${name}`);
    for (const [name, value] of Object.entries(env))
      if (/SECRET|PASSWORD|API_KEY|TOKEN/.test(name))
        assert.match(value, /^\$\{[A-Z_]+(:-)?\}$/, `${name} comes from the user's environment, never from the file`);
    const dockerEnv = dockerfileStages()
      .at(-1)!
      .lines.filter(([i]) => i === 'ENV')
      .flatMap(([, args]) => [...args.matchAll(/([A-Z_]+)=/g)].map((m) => m[1]))
      .filter((name) => name !== 'NODE_ENV');
    for (const name of dockerEnv) assert.ok(reads.has(name), `the image sets ${name}, which cutover reads`);
  });

  test('with only a service principal given, the worker connects to the stack’s Temporal and the public cloud', () => {
    const env = environment(services['cutover-worker']);
    const user = { AZURE_TENANT_ID: 'tenant', AZURE_CLIENT_ID: 'client', AZURE_CLIENT_SECRET: 'secret' };
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v, user)]));
    const config = loadConfig({ HOME: '/home/node', ...resolved });
    assert.equal(config.temporal.address, 'temporal:7233');
    assert.equal(config.temporal.namespace, 'default');
    assert.equal(config.taskQueue, 'cutover');
    assert.equal(config.evidenceDir, '/var/lib/cutover/evidence');
    assert.equal(config.azure.armEndpoint, 'https://management.azure.com');
    assert.equal(config.azure.authorityHost, 'https://login.microsoftonline.com');
    assert.equal(config.azure.tenantId, 'tenant');
    assert.ok(config.azureConfigured && config.azureClientIdSet);
    assert.ok(
      (services['cutover-worker'].volumes ?? []).some((v) => v.endsWith(`:${config.evidenceDir}`)),
      'evidence is kept on a volume',
    );
  });

  test('the set-up jobs run scripts that exist, and register exactly the search attributes the workflow sets', () => {
    for (const name of ['temporal-schema', 'temporal-setup']) {
      const service = services[name];
      const mount = (service.volumes ?? []).find((v) => v.includes(':/scripts'));
      assert.ok(mount, `${name} mounts the scripts`);
      const hostDir = mount.split(':')[0];
      for (const arg of service.command ?? [])
        if (arg.startsWith('/scripts/'))
          assert.ok(existsSync(path.join(ROOT, hostDir, arg.slice('/scripts/'.length))), `${name} runs ${arg}`);
    }
    const script = read('deploy/temporal/setup-namespace.sh');
    const registered = [...script.matchAll(/^search_attribute (\w+) (\w+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    const typeName = (t: string) => ({ [SearchAttributeType.KEYWORD]: 'Keyword' })[t] ?? t;
    assert.deepEqual(registered.sort(), ALL_SEARCH_ATTRIBUTES.map((k) => `${k.name} ${typeName(k.type)}`).sort());
    for (const volume of services.temporal.volumes ?? []) {
      const host = volume.split(':')[0];
      assert.ok(existsSync(path.join(ROOT, host)), `${host} exists`);
      if (host.endsWith('.yaml')) assert.ok(parse(read(host)), `${host} parses`);
    }
    assert.ok(
      (services.temporal.volumes ?? []).some((v) =>
        v.endsWith(`:${environment(services.temporal).DYNAMIC_CONFIG_FILE_PATH}:ro`),
      ),
      'the dynamic config file is mounted where DYNAMIC_CONFIG_FILE_PATH points',
    );
  });
});

describe('Dockerfile', () => {
  const stages = dockerfileStages();
  const final = stages.at(-1)!;

  test('multi-stage: npm ci and the build in one stage, only production dependencies in the image', () => {
    assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
    const build = stages[0].lines.filter(([i]) => i === 'RUN').map(([, a]) => a);
    assert.ok(
      build.some((r) => /\bnpm ci\b/.test(r)),
      'npm ci',
    );
    assert.ok(
      build.some((r) => /\bnpm run build\b/.test(r)),
      'npm run build',
    );
    assert.ok(
      build.some((r) => /\bnpm prune --omit=dev\b/.test(r)),
      'dev dependencies pruned',
    );
    assert.ok(!final.lines.some(([i, a]) => i === 'RUN' && /\bnpm (ci|install)\b/.test(a)), 'no install in the image');
  });

  test('runs the CLI’s `worker` command as a non-root user', () => {
    const cmd = final.lines.filter(([i]) => i === 'CMD').at(-1)?.[1];
    assert.ok(cmd, 'a CMD');
    const argv = JSON.parse(cmd) as string[];
    assert.deepEqual(argv, ['node', 'bin/cutover.js', 'worker']);
    const program = buildProgram(async () => undefined);
    const worker = program.commands.find((c) => c.name() === argv[2]);
    assert.ok(worker, `cli/main.ts has a ${argv[2]} command`);
    assert.equal(worker.registeredArguments.filter((a) => a.required).length, 0, 'it needs no argument');
    const user = final.lines.filter(([i]) => i === 'USER').at(-1)?.[1];
    assert.ok(user && !/^(root|0)(:|$)/.test(user), `USER ${user} is not root`);
    assert.ok(read('bin/cutover.js').includes("require('../dist/cli/main.js')"), 'bin/cutover.js runs dist/');
  });

  test('copies every source folder the build compiles, and nothing it copies is ignored', () => {
    const copies = stages.flatMap((s) =>
      s.lines
        .filter(([i, a]) => i === 'COPY' && !a.startsWith('--from'))
        .flatMap(([, a]) => a.split(/\s+/).slice(0, -1)),
    );
    const build = JSON.parse(read('tsconfig.build.json')) as { include: string[]; extends: string };
    for (const dir of [...build.include, 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'])
      assert.ok(copies.includes(dir), `the Dockerfile copies ${dir}`);
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const need of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(need), `.dockerignore has ${need}`);
    for (const src of copies) {
      assert.ok(existsSync(path.join(ROOT, src)), `${src} exists`);
      assert.ok(!ignored.includes(src), `${src} is not in .dockerignore`);
    }
  });
});
