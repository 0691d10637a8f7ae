import type { ComponentChildren } from 'preact'
import { ApiError } from '../api.ts'

export function Notice(props: { kind: 'info' | 'error' | 'warning' | 'success'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  )
}

/** What a failed call means to a person; 404 from an endpoint this gateway does not have yet reads "not available". */
export function ErrorNotice(props: { error: unknown; feature?: string }) {
  const error = props.error
  if (error instanceof ApiError && error.status === 404 && props.feature !== undefined) {
    return <Notice kind="info">{props.feature} is not available on this gateway yet.</Notice>
  }
  if (error instanceof ApiError && error.status === 403) return <Notice kind="error">You may not see or change this: {error.message}</Notice>
  return <Notice kind="error">{error instanceof Error ? error.message : 'Something went wrong.'}</Notice>
}
