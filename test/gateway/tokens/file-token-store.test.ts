// The built-in token store is shared by the gateway and `scimgate token` in
// another terminal: writers in separate processes must not drop each other's tokens.
import { spawn } from 'node:child_process'
import { utimesSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createFileTokenStore } from '../../../gateway/tokens/file-token-store.ts'
import { createTokenHasher } from '../../../gateway/tokens/token-hasher.ts'
import { typeScriptNodeArgs } from '../../../lib/typescript-runtime.js'

const hasher = createTokenHasher([{ version: 't1', secret: 'file-store-test-pepper-0123456789abcdef' }], 't1')
const STORE_MODULE = fileURLToPath(new URL('../../../gateway/tokens/file-token-store.ts', import.meta.url))
const HASHER_MODULE = fileURLToPath(new URL('../../../gateway/tokens/token-hasher.ts', import.meta.url))
const PER_WRITER = 40

function runWriter(script: string, path: string, tenant: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...typeScriptNodeArgs(), script, path, tenant], { stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('exit', resolve)
  })
}

t.test('two processes creating tokens at once keep every token', async (t) => {
  const dir = t.testdir({})
  const path = join(dir, 'tokens.json')
  const script = join(dir, 'writer.ts')
  await writeFile(
    script,
    `import { createFileTokenStore } from ${JSON.stringify(STORE_MODULE)}
import { createTokenHasher } from ${JSON.stringify(HASHER_MODULE)}
const [path, tenant] = process.argv.slice(2)
const store = createFileTokenStore(path, { hasher: createTokenHasher([{ version: 't1', secret: 'file-store-test-pepper-0123456789abcdef' }], 't1') })
for (let i = 0; i < ${PER_WRITER}; i++) await store.create({ tenantId: tenant, region: 'EU1', label: String(i) })
`,
  )
  const codes = await Promise.all([runWriter(script, path, 'one'), runWriter(script, path, 'two'), runWriter(script, path, 'three')])
  t.same(codes, [0, 0, 0], 'every writer finished')
  const store = createFileTokenStore(path, { hasher })
  for (const tenant of ['one', 'two', 'three']) t.equal((await store.list(tenant, 'EU1')).length, PER_WRITER, `all of ${tenant}'s tokens are there`)
})

t.test('a lock left by a process that died is taken over', async (t) => {
  const dir = t.testdir({ 'tokens.json.lock': '' })
  const path = join(dir, 'tokens.json')
  const old = new Date(Date.now() - 60_000)
  utimesSync(`${path}.lock`, old, old)
  const store = createFileTokenStore(path, { hasher })
  const { token } = await store.create({ tenantId: 'acme', region: 'EU1' })
  t.equal((await store.lookup(token))?.tenantId, 'acme')
})
