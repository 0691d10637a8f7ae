import { join } from 'node:path'
import { hasRedisSettings } from '../../lib/redis-connection.ts'
import { answers, clearDevModeMarker, writeDevModeMarker } from '../embedded-services.ts'

/**
 * Redis when configured or answering locally (undefined), else (or when forced) the built-in token
 * store's file under the data folder. The choice is written down so `scimgate token …` in another
 * terminal uses the same store.
 */
export async function chooseTokenStore(env: Readonly<Record<string, string | undefined>>, dataDir: string, forceEmbedded: boolean): Promise<string | undefined> {
  if (!forceEmbedded && (hasRedisSettings(env) || (await answers('127.0.0.1', 6379)))) {
    await clearDevModeMarker(dataDir)
    return undefined
  }
  const tokenStoreFile = join(dataDir, 'tokens.json')
  await writeDevModeMarker(dataDir, { tokenStoreFile })
  return tokenStoreFile
}
