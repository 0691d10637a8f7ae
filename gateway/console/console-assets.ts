import { readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'

export interface ConsoleAssets {
  /** The page every console URL answers with. */
  readonly html: string
  /** File name → contents and type, only what the build produced. */
  readonly files: ReadonlyMap<string, { readonly body: Buffer; readonly type: string }>
}

const TYPES: Readonly<Record<string, string>> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json' }

function page(script: string, style: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>scimgate console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/${style}">
<script type="module" src="/console/assets/${script}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The scimgate console needs JavaScript.</noscript>
</body>
</html>
`
}

async function readManifest(dir: string): Promise<{ script: string; style: string } | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { script: string; style: string }
  } catch {
    return undefined
  }
}

/**
 * The built console, read into memory once (it is small). When there is no
 * build yet it runs one (esbuild, well under a second), so a gateway started
 * without `npm start`'s prestart step still serves the console.
 */
export async function loadConsoleAssets(dir: string): Promise<ConsoleAssets> {
  let manifest = await readManifest(dir)
  if (manifest === undefined) {
    const { buildConsole } = await import('../../console/build.ts')
    manifest = await buildConsole(dir)
  }
  const files = new Map<string, { body: Buffer; type: string }>()
  for (const name of [manifest.script, manifest.style]) {
    files.set(name, { body: await readFile(join(dir, 'assets', name)), type: TYPES[extname(name)] ?? 'application/octet-stream' })
  }
  return { html: page(manifest.script, manifest.style), files }
}
