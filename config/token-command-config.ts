import { z } from 'zod'
import { collectProblems, ConfigError, describeIssues } from './config-error.ts'
import { devSecretsProblems } from './dev-secrets.ts'
import { parseRedisConfig, redisPrefixSchema, type RedisConfig } from './redis-settings.ts'
import { resolvePeppers, type ResolvedPeppers } from './token-peppers.ts'

/** What `scimgate token …` needs: the same token store and peppers as the gateway it serves. */
export interface TokenCommandConfig {
  readonly peppers: ResolvedPeppers
  readonly redis: RedisConfig
  readonly redisKeyPrefix: string
  /** SCIMGATE_TOKEN_STORE_FILE: the built-in token store's file instead of Redis. */
  readonly tokenStoreFile: string | undefined
  /** SCIMGATE_DATA_DIR: where `scimgate dev` keeps its local data (and says which token store it chose). */
  readonly dataDir: string | undefined
}

const envSchema = z.object({
  SCIMGATE_REDIS_PREFIX: redisPrefixSchema,
  SCIMGATE_TOKEN_STORE_FILE: z.string().optional(),
  SCIMGATE_DATA_DIR: z.string().min(1).optional(),
})

/** Reads the token command's settings; throws one ConfigError listing every bad setting. */
export function loadTokenCommandConfig(env: Readonly<Record<string, string | undefined>>): TokenCommandConfig {
  const parsed = envSchema.safeParse(env)
  const problems = parsed.success ? [] : describeIssues(parsed.error.issues)
  problems.push(...devSecretsProblems(env))
  const redis = collectProblems(problems, () => parseRedisConfig(env))
  const peppers = collectProblems(problems, () => resolvePeppers(env))
  if (!parsed.success || redis === undefined || peppers === undefined || problems.length > 0) throw new ConfigError('environment', problems)
  const e = parsed.data
  return Object.freeze({
    peppers,
    redis,
    redisKeyPrefix: e.SCIMGATE_REDIS_PREFIX,
    tokenStoreFile: e.SCIMGATE_TOKEN_STORE_FILE === '' ? undefined : e.SCIMGATE_TOKEN_STORE_FILE,
    dataDir: e.SCIMGATE_DATA_DIR,
  })
}
