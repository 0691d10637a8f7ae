import { chmod, mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadRegionCatalog, parseRegionCatalog } from '../../config/region-catalog.ts'
import { startDev } from '../../cli/dev.ts'
import { tokenCommand } from '../../cli/token-command.ts'
import { httpRequest } from '../helpers/http-request.ts'

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

t.test('embedded mode: the whole system starts with no PostgreSQL and no Redis configured, and keeps its data', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'scimgate-embedded-'))
  // PostgreSQL runs as its own system user when we are root: it must be able to enter the folder.
  await chmod(dataDir, 0o755)
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const defaults = loadRegionCatalog()
  const regions = await Promise.all(
    ['EU1', 'US1'].map(async (code) => {
      const region = defaults.byCode(code)!
      const port = await freePort()
      return { ...region, hostnames: [...region.hostnames], upstreams: [`http://127.0.0.1:${port}`], nodePort: port }
    }),
  )
  const catalog = parseRegionCatalog({ regions }, 'test')
  const env = { SCIMGATE_EMBEDDED: '1', SCIMGATE_DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(await freePort()), PORT: '0', ADMIN_PORT: '0', LOG_LEVEL: 'silent' }
  const printed: string[] = []

  const first = await startDev(env, catalog, (line) => printed.push(line))
  let closed = false
  t.teardown(async () => {
    if (!closed) await first.close()
  })
  t.same(first.embedded, ['PostgreSQL', 'token store'])
  t.match(printed.join('\n'), /embedded mode: PostgreSQL and token store/)
  t.match(printed.join('\n'), /EU1 .*demo token: scg_eu1_/)

  const call = (url: string, host: string, token: string, method = 'GET', body?: unknown) =>
    httpRequest(`${url}/scim/v2/Users`, { method, headers: { host, authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })

  const demo = first.demoTokens.get('EU1')!
  t.equal((await call(first.gatewayUrl, 'eu1.localhost', demo, 'POST', { userName: 'kept@example.com' })).status, 201)

  // `scimgate token create` in another process finds the built-in store through the data folder
  const out: string[] = []
  await tokenCommand({ env, catalog: () => catalog, stdout: (text) => out.push(text), stderr: () => undefined }).parseAsync(['node', 'token', 'create', '--tenant', 'demo', '--region', 'EU1'])
  const created = out.join('').trim()
  t.match(created, /^scg_eu1_/)
  t.equal((await call(first.gatewayUrl, 'eu1.localhost', created)).status, 200, 'a token made by the CLI works at once')
  const listed: string[] = []
  await tokenCommand({ env, catalog: () => catalog, stdout: (text) => listed.push(text), stderr: () => undefined }).parseAsync(['node', 'token', 'list', '--tenant', 'demo', '--region', 'EU1'])
  const tokenId = listed.join('').trim().split('\n').at(-1)!.split('\t')[0]!
  await tokenCommand({ env, catalog: () => catalog, stdout: () => undefined, stderr: () => undefined }).parseAsync(['node', 'token', 'revoke', tokenId])
  t.equal((await call(first.gatewayUrl, 'eu1.localhost', created)).status, 401, 'a revocation by the CLI shows at once')

  await first.close()
  closed = true

  const second = await startDev(env, catalog, () => undefined)
  t.teardown(() => second.close())
  const users = (await call(second.gatewayUrl, 'eu1.localhost', second.demoTokens.get('EU1')!)).json()
  t.same(users.Resources.map((u: { userName: string }) => u.userName), ['kept@example.com'], 'data persists between runs')
  t.equal((await call(second.gatewayUrl, 'eu1.localhost', demo)).status, 401, "the previous run's demo token was revoked")
})
