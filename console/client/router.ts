import { useEffect, useState } from 'preact/hooks'

/** The console keeps its state in the URL (page, filters, tenant), so a view can be bookmarked and shared. */
export function navigate(url: string): void {
  history.pushState(null, '', url)
  dispatchEvent(new PopStateEvent('popstate'))
}

export function useLocation(): URL {
  const [url, setUrl] = useState(() => new URL(location.href))
  useEffect(() => {
    const update = (): void => setUrl(new URL(location.href))
    addEventListener('popstate', update)
    return () => removeEventListener('popstate', update)
  }, [])
  return url
}

/** Same-tab navigation for plain left clicks on console links; anything else (new tab, …) is the browser's. */
export function followLink(event: MouseEvent): void {
  const anchor = (event.currentTarget as HTMLAnchorElement | null) ?? null
  if (anchor === null || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
  event.preventDefault()
  navigate(anchor.href)
}
