import t from 'tap'
import { eventsCommand } from '../../cli/events-command.ts'
import { ADMIN_TOKEN, startSystem } from '../helpers/system.ts'

const EU1 = 'eu1.localhost'

t.test('`scimgate events` prints the audit trail and follows the feed', async (t) => {
  const system = await startSystem(t, { regions: ['EU1'] })
  const { token, tokenId } = await system.createToken('acme', 'EU1')
  const user = (await system.request(EU1, 'POST', '/scim/v2/Users', { token, headers: { 'user-agent': 'Okta SCIM Client' }, body: { userName: 'kim@example.com' } })).json()

  const run = async (args: string[], signal?: AbortSignal, onLine?: (line: string) => void) => {
    const out: string[] = []
    const err: string[] = []
    const command = eventsCommand({
      env: { SCIMGATE_ADMIN_URL: system.gateway.adminUrl, SCIMGATE_ADMIN_TOKEN: ADMIN_TOKEN },
      stdout: (text) => {
        out.push(text)
        onLine?.(text)
      },
      stderr: (text) => err.push(text),
      ...(signal === undefined ? {} : { signal }),
    }).exitOverride()
    await command.parseAsync(args, { from: 'user' })
    return { stdout: out.join(''), stderr: err.join('') }
  }

  const audit = await run(['--tenant', 'acme', '--region', 'eu1', '--type', 'user.created'])
  t.same(audit.stdout.trimEnd().split('\t').slice(1), ['user.created', `User/${user.id}`, `token ${tokenId}`, 'okta', audit.stdout.trimEnd().split('\t')[5]])
  t.match(audit.stdout, /^\d{4}-\d{2}-\d{2}T/)
  t.match((await run(['--tenant', 'nobody', '--region', 'EU1'])).stderr, /no events/)

  const stop = new AbortController()
  const lines: string[] = []
  const following = run(['--tenant', 'acme', '--region', 'EU1', '--follow'], stop.signal, (line) => {
    lines.push(line)
    stop.abort()
  })
  await new Promise((resolve) => setTimeout(resolve, 300))
  await system.request(EU1, 'DELETE', `/scim/v2/Users/${user.id}`, { token })
  await following
  t.match(lines[0], new RegExp(`\\tuser\\.deleted\\tUser/${user.id}\\t`), 'the deletion, as it happened')

  // The operator names itself a feed consumer, so it is tracked; the CLI lists it, then forgets it.
  t.equal((await system.admin('GET', '/admin/v1/regions/EU1/tenants/acme/changes?consumer=cli-check')).status, 200)
  const listed = await run(['--tenant', 'acme', '--region', 'EU1', '--consumers'])
  t.match(listed.stdout, /^operator\/cli-check\t\d{4}-\d{2}-\d{2}T[^\t]+\t[\d.]+s\tok\t\S+\n$/m, 'name, last read, lag, state, cursor')
  t.match((await run(['--tenant', 'acme', '--region', 'EU1', '--forget-consumer', 'operator/cli-check'])).stderr, /no longer tracked/)
  const after = await run(['--tenant', 'acme', '--region', 'EU1', '--consumers'])
  t.equal(after.stdout, '')
  t.match(after.stderr, /no tracked feed consumers/)
  await t.rejects(run(['--tenant', 'acme', '--region', 'EU1', '--forget-consumer', 'operator/cli-check']), /404/, 'forgetting it again: not tracked')

  const noCredential = eventsCommand({ env: {}, stdout: () => undefined, stderr: () => undefined }).exitOverride()
  await t.rejects(noCredential.parseAsync(['--tenant', 'acme', '--region', 'EU1'], { from: 'user' }), /SCIMGATE_ADMIN_TOKEN/)
})
