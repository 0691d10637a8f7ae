// Builds the console's browser assets with esbuild: one script and one
// stylesheet, content-hashed names (so they can be cached for a year), and a
// manifest the gateway reads to write the page. `npm start` runs it first
// (prestart); the gateway also builds on demand when no build is present.
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

export interface ConsoleManifest {
  /** File names under assets/. */
  readonly script: string
  readonly style: string
}

const here = dirname(fileURLToPath(import.meta.url))
export const DEFAULT_CONSOLE_ASSETS_DIR = resolve(here, '..', 'dist', 'console')

/** Builds into a fresh directory and moves it into place, so a concurrent reader never sees half a build. */
export async function buildConsole(outDir: string = DEFAULT_CONSOLE_ASSETS_DIR): Promise<ConsoleManifest> {
  await mkdir(dirname(outDir), { recursive: true })
  const staging = await mkdtemp(join(dirname(outDir), `.${basename(outDir)}-`))
  try {
    const result = await esbuild.build({
      entryPoints: [join(here, 'client', 'main.tsx')],
      outdir: join(staging, 'assets'),
      entryNames: '[name]-[hash]',
      bundle: true,
      minify: true,
      format: 'esm',
      target: ['chrome110', 'firefox115', 'safari16'],
      jsx: 'automatic',
      jsxImportSource: 'preact',
      metafile: true,
      legalComments: 'none',
      logLevel: 'silent',
    })
    const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path))
    const script = outputs.find((name) => name.endsWith('.js'))
    const style = outputs.find((name) => name.endsWith('.css'))
    if (script === undefined || style === undefined) throw new Error('the console build produced no script or no stylesheet')
    const manifest: ConsoleManifest = { script, style }
    await writeFile(join(staging, 'manifest.json'), JSON.stringify(manifest))
    await rm(outDir, { recursive: true, force: true })
    await rename(staging, outDir)
    return manifest
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const manifest = await buildConsole(process.argv[2] === undefined ? undefined : resolve(process.argv[2]))
  console.error(`console built: ${manifest.script}, ${manifest.style}`)
}
