// deploy/compose.yaml cannot be run here (no Docker engine), so it is checked
// statically: every service can start from something, waits only for services
// that exist, every catalog region has its migration and node on its own
// database, the gateway's catalog points at those nodes, and host ports do
// not collide.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { resolve } from 'node:path'
import t from 'tap'
import { parse as parseYaml } from 'yaml'
import { loadRegionCatalog, parseRegionCatalog, type Region } from '../../config/region-catalog.ts'

const DEPLOY_DIR = fileURLToPath(new URL('../../deploy/', import.meta.url))
const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url))
const OTLP_ENDPOINT = 'http://jaeger:4318'
const DEPENDENCY_CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully'])

interface ComposeService {
  image?: string
  build?: string | { context?: string; dockerfile?: string }
  command?: string[]
  environment?: Record<string, string | number | boolean | null> | string[]
  depends_on?: string[] | Record<string, { condition?: string }>
  ports?: (string | { published?: string | number; host_ip?: string })[]
  volumes?: (string | { type?: string; source?: string })[]
  healthcheck?: { test?: unknown }
  restart?: string
}
interface ComposeFile {
  services: Record<string, ComposeService>
  volumes?: Record<string, unknown>
}

// Compose merges `<<: *anchor` keys; the yaml package does so with `merge: true`.
const compose = parseYaml(readFileSync(`${DEPLOY_DIR}compose.yaml`, 'utf8'), { merge: true }) as ComposeFile
const services = compose.services
const catalog = loadRegionCatalog()

function environment(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {}
  if (Array.isArray(env)) return Object.fromEntries(env.map((entry) => [entry.split('=')[0] ?? '', entry.slice(entry.indexOf('=') + 1)]))
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, String(value ?? '')]))
}

function dependencies(service: ComposeService): Map<string, string> {
  const dependsOn = service.depends_on ?? []
  if (Array.isArray(dependsOn)) return new Map(dependsOn.map((name) => [name, 'service_started']))
  return new Map(Object.entries(dependsOn).map(([name, options]) => [name, options.condition ?? 'service_started']))
}

/** The host side of a port mapping: `[ip:]host:container[/proto]` or the long form. */
function hostPort(mapping: string | { published?: string | number; host_ip?: string }): { ip: string; port: string } | undefined {
  if (typeof mapping !== 'string') return mapping.published === undefined ? undefined : { ip: mapping.host_ip ?? '0.0.0.0', port: String(mapping.published) }
  const parts = mapping.replace(/\/(tcp|udp)$/, '').split(':')
  if (parts.length === 1) return undefined
  return parts.length === 3 ? { ip: parts[0] ?? '', port: parts[1] ?? '' } : { ip: '0.0.0.0', port: parts[0] ?? '' }
}

const isScimgate = (service: ComposeService) => service.image === 'scimgate:local'
const slug = (region: Region) => region.code.toLowerCase()

t.test('every service starts from an image or a build of this repository', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    t.ok(service.image !== undefined || service.build !== undefined, `${name}: image or build`)
    if (service.image !== undefined && !isScimgate(service)) t.match(service.image, /^[\w./-]+:[\w.-]+$/, `${name}: pinned tag`)
    if (service.build === undefined) continue
    const build = typeof service.build === 'string' ? { context: service.build } : service.build
    const context = resolve(DEPLOY_DIR, build.context ?? '.')
    t.equal(context, resolve(REPO_DIR), `${name}: builds from the repository root`)
    t.ok(existsSync(resolve(context, build.dockerfile ?? 'Dockerfile')), `${name}: the Dockerfile exists`)
  }
})

t.test('depends_on names services that exist, with conditions they can meet', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    for (const [target, condition] of dependencies(service)) {
      t.ok(services[target], `${name} → ${target} exists`)
      t.ok(DEPENDENCY_CONDITIONS.has(condition), `${name} → ${target}: ${condition}`)
      if (condition === 'service_healthy') t.ok(services[target]?.healthcheck, `${name} → ${target} has a healthcheck`)
      if (condition === 'service_completed_successfully') t.equal(services[target]?.restart, 'no', `${name} → ${target} is a one-shot`)
      t.not(target, name)
    }
  }
})

t.test('every region has a migration and a node on its own database', async (t) => {
  const databases = new Set<string>()
  for (const region of catalog.regions) {
    const migrate = services[`migrate-${slug(region)}`]
    const node = services[`node-${slug(region)}`]
    if (migrate === undefined || node === undefined) {
      t.fail(`${region.code}: migrate-${slug(region)} and node-${slug(region)} are defined`)
      continue
    }
    t.same(migrate.command, ['migrate', '--region', region.code, '--create'], `${region.code} migration`)
    t.same(node.command, ['node', '--region', region.code], `${region.code} node`)
    const url = environment(node).DATABASE_URL ?? ''
    t.equal(new URL(url).pathname, `/scimgate_${slug(region)}`, `${region.code}: database scimgate_${slug(region)}`)
    t.equal(environment(migrate).DATABASE_URL, url, `${region.code}: the migration migrates the node's database`)
    databases.add(url)
    t.equal(environment(node).HOST, '0.0.0.0', `${region.code}: the node listens beyond the container`)
    t.equal(dependencies(node).get(`migrate-${slug(region)}`), 'service_completed_successfully', `${region.code}: the node waits for its migration`)
    t.equal(dependencies(services.gateway ?? {}).get(`node-${slug(region)}`), 'service_healthy', `the gateway waits for ${region.code}`)
  }
  t.equal(databases.size, catalog.regions.length, 'one database per region')
  const nodes = Object.keys(services).filter((name) => name.startsWith('node-'))
  t.same(nodes.sort(), catalog.regions.map((r) => `node-${slug(r)}`).sort(), 'no node without a catalog region')
})

t.test('the compose catalog is config/regions.yaml with the compose nodes as upstreams', async (t) => {
  const file = `${DEPLOY_DIR}compose/regions.yaml`
  const composeCatalog = parseRegionCatalog(parseYaml(readFileSync(file, 'utf8')), file)
  const describe = (r: Region) => ({ code: r.code, name: r.name, tenantUrl: r.tenantUrl, hostnames: r.hostnames, nodePort: r.nodePort })
  t.same(composeCatalog.regions.map(describe), catalog.regions.map(describe))
  for (const region of composeCatalog.regions) {
    const node = services[`node-${slug(region)}`]
    const port = environment(node ?? {}).PORT ?? String(region.nodePort)
    t.same(region.upstreams, [`http://node-${slug(region)}:${port}`], `${region.code} upstream`)
  }
  for (const [name, service] of Object.entries(services).filter(([, s]) => isScimgate(s))) {
    t.equal(environment(service).SCIMGATE_REGIONS_FILE, '/etc/scimgate/regions.yaml', `${name} reads the compose catalog`)
    t.ok((service.volumes ?? []).some((v) => typeof v === 'string' && v.startsWith('./compose/regions.yaml:/etc/scimgate/regions.yaml')), `${name} mounts it`)
  }
})

t.test('the gateway reaches Redis and its identity key is shared with the nodes', async (t) => {
  const gateway = services.gateway
  t.ok(gateway, 'a gateway service')
  const env = environment(gateway ?? {})
  t.equal(env.HOST, '0.0.0.0')
  t.equal(new URL(env.REDIS_URL ?? '').hostname, 'redis')
  t.ok(services.redis)
  t.same(gateway?.command, ['gateway'])
  for (const [name, service] of Object.entries(services).filter(([n]) => n === 'gateway' || n.startsWith('node-'))) {
    t.equal(dependencies(service).get('dev-keys'), 'service_completed_successfully', `${name} waits for the key pair`)
    t.ok((service.volumes ?? []).includes('dev-keys:/app/.data'), `${name} mounts the key pair`)
  }
})

t.test('every scimgate service sends traces to Jaeger under its own name', async (t) => {
  t.ok(services.jaeger, 'a jaeger service')
  const names = new Map<string, string>()
  for (const [name, service] of Object.entries(services).filter(([n, s]) => isScimgate(s) && n !== 'dev-keys')) {
    const env = environment(service)
    t.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, OTLP_ENDPOINT, `${name}: OTLP endpoint`)
    const serviceName = env.OTEL_SERVICE_NAME ?? ''
    t.match(serviceName, /^scimgate-/, `${name}: OTEL_SERVICE_NAME`)
    t.notOk(names.has(serviceName), `${name}: ${serviceName} is not also ${names.get(serviceName)}`)
    names.set(serviceName, name)
    if (!name.startsWith('migrate-')) t.ok(dependencies(service).has('jaeger'), `${name}: starts after jaeger`)
  }
})

t.test('published ports do not collide and stay on the loopback', async (t) => {
  const owners = new Map<string, string>()
  for (const [name, service] of Object.entries(services)) {
    for (const mapping of service.ports ?? []) {
      const host = hostPort(mapping)
      if (host === undefined) continue
      t.equal(host.ip, '127.0.0.1', `${name}: ${host.port} published on the loopback only`)
      t.notOk(owners.has(host.port), `${name}: host port ${host.port} is not also ${owners.get(host.port)}'s`)
      owners.set(host.port, name)
    }
  }
  t.ok(owners.has('8080'), 'the gateway is published')
  t.ok(owners.has('16686'), 'the trace UI is published')
})

t.test('named volumes are declared', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    for (const volume of service.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0] ?? '' : volume.source ?? ''
      if (source.startsWith('.') || source.startsWith('/')) {
        t.ok(existsSync(resolve(DEPLOY_DIR, source)), `${name}: ${source} exists`)
        continue
      }
      t.ok(compose.volumes !== undefined && source in compose.volumes, `${name}: volume ${source} is declared`)
    }
  }
})
