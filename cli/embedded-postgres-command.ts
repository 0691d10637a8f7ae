import closeWithGrace from 'close-with-grace'
import { Command } from 'commander'
import { announceReady, closeWithSupervisor } from './announce-ready.ts'
import { startEmbeddedPostgres } from './embedded-services.ts'

/**
 * `scimgate embedded-postgres` (internal): the embedded PostgreSQL of `scimgate dev` as a process of
 * its own, so the supervisor stops it last, after the nodes have drained, and a terminal's Ctrl-C
 * does not reach the server directly.
 */
export function embeddedPostgresCommand(): Command {
  return new Command('embedded-postgres')
    .description('run the embedded PostgreSQL of `scimgate dev` (internal)')
    .requiredOption('--data-dir <path>', 'where the cluster lives')
    .requiredOption('--port <port>', 'where it listens')
    .action(async (options: { dataDir: string; port: string }) => {
      const database = await startEmbeddedPostgres(options.dataDir, Number(options.port))
      closeWithGrace({ delay: 10_000 }, () => database.stop())
      closeWithSupervisor()
      announceReady({ url: database.url })
    })
}
