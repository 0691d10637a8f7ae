import { useState } from 'preact/hooks'
import type { SessionInfo } from '../../lib/admin-api/contract.ts'
import { api } from './api.ts'
import { ErrorNotice, Notice } from './components/notice.tsx'

export function SignIn(props: { onSignedIn: (session: SessionInfo) => void; ended: boolean }) {
  const [credential, setCredential] = useState('')
  const [error, setError] = useState<unknown>(undefined)
  const [busy, setBusy] = useState(false)
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      props.onSignedIn(await api.signIn(credential))
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }
  return (
    <main class="sign-in">
      <h1>scimgate console</h1>
      {props.ended ? <Notice kind="info">Your session ended. Sign in again.</Notice> : null}
      <form onSubmit={submit}>
        <label for="credential">Admin credential</label>
        <input id="credential" name="credential" type="password" autoComplete="off" required value={credential} onInput={(e) => setCredential(e.currentTarget.value)} />
        <p class="hint">Your team admin credential (from your operator, or `npx scimgate credential create --kind admin`).</p>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      {error === undefined ? null : <ErrorNotice error={error} />}
    </main>
  )
}
