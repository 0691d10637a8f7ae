// `scimgate gateway` and `scimgate node` without real secrets refuse to start
// and list every missing secret; NODE_ENV does not matter.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const BIN = fileURLToPath(new URL('../../bin/scimgate.js', import.meta.url))

function run(args: string[]): { status: number | null; stderr: string } {
  // Only what a bare machine has: no secrets, no SCIMGATE_DEV_SECRETS, ports that would not collide if it did start.
  const env = { PATH: process.env.PATH ?? '', HOME: t.testdirName, NODE_ENV: 'staging', PORT: '0', ADMIN_PORT: '0', OPS_PORT: 'off', SCIMGATE_DATA_DIR: t.testdirName }
  const result = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 30_000 })
  return { status: result.status, stderr: result.stderr }
}

t.test('the gateway refuses to start without its secrets', async (t) => {
  const { status, stderr } = run(['gateway'])
  t.equal(status, 2, stderr)
  t.match(stderr, /TOKEN_PEPPERS: is required/)
  t.match(stderr, /IDENTITY_SIGNING_KEY or IDENTITY_SIGNING_KEY_FILE: is required/)
})

t.test('the node refuses to start without the gateway keys and the cursor keys', async (t) => {
  const { status, stderr } = run(['node', '--region', 'EU1'])
  t.equal(status, 2, stderr)
  t.match(stderr, /IDENTITY_JWKS or IDENTITY_JWKS_FILE: is required/)
  t.match(stderr, /SCIM_CURSOR_KEYS or SCIM_CURSOR_KEYS_FILE: is required/)
})
