import v8 from 'node:v8'
import vm from 'node:vm'

v8.setFlagsFromString('--expose-gc')
const collectGarbage = vm.runInNewContext('gc') as () => void

export interface MemoryGrowth {
  /** Peak growth of what the process holds (heap used + buffers) right after a full GC, in MB. */
  readonly retainedMb: number
  /** Peak growth of resident memory, in MB (includes garbage not yet collected and memory V8 keeps). */
  readonly rssMb: number
}

const held = (): number => {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.external + usage.arrayBuffers
}

/**
 * Runs `work` while sampling this process's memory every `everyMs` with a full GC before each sample, so
 * `retainedMb` counts what is held at once (not garbage a lazy collector has not freed yet).
 */
export async function measureMemoryGrowth<T>(work: () => Promise<T>, everyMs = 50): Promise<{ result: T; growth: MemoryGrowth }> {
  collectGarbage()
  const baseHeld = held()
  const baseRss = process.memoryUsage().rss
  let peakHeld = baseHeld
  let peakRss = baseRss
  const sample = (): void => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
    collectGarbage()
    peakHeld = Math.max(peakHeld, held())
  }
  const timer = setInterval(sample, everyMs)
  try {
    const result = await work()
    return { result, growth: { retainedMb: (peakHeld - baseHeld) / 1_048_576, rssMb: (peakRss - baseRss) / 1_048_576 } }
  } finally {
    clearInterval(timer)
  }
}
