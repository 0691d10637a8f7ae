// The metric names a PromQL expression reads, for checking dashboards and
// alert rules against what the processes export. Not a PromQL parser: it
// removes what cannot be a metric name (strings, label matchers, ranges,
// grouping clauses, Grafana variables, numbers, functions and keywords) and
// keeps the identifiers left.
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'atan2'])

export function promqlMetricNames(expr: string): Set<string> {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\$\{[^}]*\}|\$\w+/g, '1m')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b\d+(\.\d+)?([eE][+-]?\d+)?[smhdwy]?\b/g, ' ')
  const names = new Set<string>()
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = match[0]
    const rest = stripped.slice((match.index ?? 0) + name.length)
    if (/^\s*\(/.test(rest) || KEYWORDS.has(name.toLowerCase())) continue
    names.add(name)
  }
  return names
}

/** Metric names a Prometheus text exposition offers: every family's samples (a histogram's _bucket, _sum, _count). */
export function exportedMetricNames(exposition: string): Set<string> {
  const names = new Set<string>()
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)$/.exec(line)
    if (type !== null) {
      const [, family = '', kind] = type
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(family + suffix)
      else if (kind === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(family + suffix)
      else names.add(family)
      continue
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)
    if (sample !== null) names.add(sample[1]!)
  }
  return names
}
