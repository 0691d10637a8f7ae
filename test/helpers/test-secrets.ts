import type { IdentityKeyPair } from '../../lib/internal-identity.ts'

/** A pepper of a real deployment's shape (32+ characters), for tests; not the public development pepper. */
export const TEST_TOKEN_PEPPERS = JSON.stringify([{ version: 't1', secret: 'scimgate-test-pepper-0123456789abcdef' }])

/** The secrets a gateway refuses to start without (the tests never rely on SCIMGATE_DEV_SECRETS). */
export function gatewaySecretsEnv(keys: IdentityKeyPair): Record<string, string> {
  return { TOKEN_PEPPERS: TEST_TOKEN_PEPPERS, IDENTITY_SIGNING_KEY: JSON.stringify(keys.privateJwk) }
}
