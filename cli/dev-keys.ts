import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { JWK } from 'jose'
import { generateIdentityKeyPair, importSigningKey, type SigningKey } from '../lib/internal-identity.ts'

/** Local data of `scimgate dev` (embedded PostgreSQL, built-in token store, dev keys): SCIMGATE_DATA_DIR or ./.data. */
export const DEFAULT_DATA_DIR = process.env.SCIMGATE_DATA_DIR ?? join(process.cwd(), '.data')

export interface DevKeys {
  readonly signingKey: SigningKey
  readonly publicJwk: JWK
  /** For handing the key to a gateway process that `scimgate dev` starts. */
  readonly privateJwk: JWK
}

/**
 * Local runs only: one identity key pair kept under the data folder, so a node
 * started alone and a gateway started later agree. Production keys come from
 * secrets (IDENTITY_SIGNING_KEY / IDENTITY_JWKS).
 */
export async function loadOrCreateDevKeys(dataDir: string = DEFAULT_DATA_DIR): Promise<DevKeys> {
  const file = join(dataDir, 'dev-identity-key.json')
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as { privateJwk: JWK; publicJwk: JWK }
    return { signingKey: await importSigningKey(stored.privateJwk), publicJwk: stored.publicJwk, privateJwk: stored.privateJwk }
  } catch {
    const pair = await generateIdentityKeyPair('dev-1')
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, JSON.stringify({ privateJwk: pair.privateJwk, publicJwk: pair.publicJwk }), { mode: 0o600 })
    return { signingKey: pair.signingKey, publicJwk: pair.publicJwk, privateJwk: pair.privateJwk }
  }
}
