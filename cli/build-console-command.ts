import { Command } from 'commander'

/** `scimgate build-console`: the admin console's content-hashed browser assets, built on demand (`npm start` builds them first). */
export function buildConsoleCommand(): Command {
  return new Command('build-console')
    .description('build the admin console’s browser assets (content-hashed) into dist/console, or CONSOLE_ASSETS_DIR')
    .action(async () => {
      const { buildConsole } = await import('../console/build.ts')
      const manifest = await buildConsole(process.env.CONSOLE_ASSETS_DIR)
      console.error(`console built: ${manifest.script}, ${manifest.style}`)
    })
}
