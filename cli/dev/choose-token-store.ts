import { join } from 'node:path'
import { hasRedisSettings } from '../../config/redis-settings.ts'
import { answers, writeDevModeMarker } from '../embedded-services.ts'

/**
 * Redis when configured or answering locally (undefined), else (or when forced) the built-in token
 * store's file under the data folder. The choice is written down (with the use of development
 * secrets) so `scimgate token …` in another terminal uses the same store and pepper.
 */
export async function chooseTokenStore(env: Readonly<Record<string, string | undefined>>, dataDir: string, forceEmbedded: boolean): Promise<string | undefined> {
  if (!forceEmbedded && (hasRedisSettings(env) || (await answers('127.0.0.1', 6379)))) {
    await writeDevModeMarker(dataDir, { devSecrets: true })
    return undefined
  }
  const tokenStoreFile = join(dataDir, 'tokens.json')
  await writeDevModeMarker(dataDir, { tokenStoreFile, devSecrets: true })
  return tokenStoreFile
}
