// A throwaway certificate authority made with the `openssl` CLI, for tests of
// the gateway→node TLS hop: a CA, and a server certificate it signs.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Teardown } from './system.ts'

export interface TestCa {
  readonly dir: string
  readonly caFile: string
  readonly caPem: string
  /** Issues a server certificate for `names` (DNS names and IP addresses); returns the files and their PEM. */
  issue(name: string, names: readonly string[]): { certFile: string; keyFile: string; cert: string; key: string }
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

export function createTestCa(t: Teardown, commonName = 'scimgate test CA'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'scimgate-ca-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir)
  const caFile = join(dir, 'ca.crt')
  return {
    dir,
    caFile,
    caPem: readFileSync(caFile, 'utf8'),
    issue(name, names) {
      const san = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')
      writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`)
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${names[0] ?? name}`], dir)
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`], dir)
      const certFile = join(dir, `${name}.crt`)
      const keyFile = join(dir, `${name}.key`)
      return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') }
    },
  }
}
