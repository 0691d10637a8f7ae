import { useId, useRef, useState } from 'preact/hooks'

/** A read-only value with a copy button (the clipboard API, else selecting the text for Ctrl+C). */
export function CopyField(props: { label: string; value: string }) {
  const id = useId()
  const input = useRef<HTMLInputElement>(null)
  const [copied, setCopied] = useState(false)
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(props.value)
      setCopied(true)
    } catch {
      input.current?.select()
    }
  }
  return (
    <div class="copy-field">
      <label for={id}>{props.label}</label>
      <div class="copy-row">
        <input id={id} ref={input} type="text" readOnly value={props.value} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={copy} aria-label={`Copy ${props.label}`}>
          Copy
        </button>
      </div>
      <span role="status" class="hint">
        {copied ? 'Copied.' : ''}
      </span>
    </div>
  )
}
