// Timing helpers built on tinybench. Each measurement is summarised by its median and spread.

export interface Timing {
  /** Median time per call, in milliseconds. */
  median: number;
  /** Median absolute deviation from the median, in milliseconds. */
  mad: number;
  min: number;
  p75: number;
  p99: number;
  samples: number;
}

export interface MeasureOptions {
  /** Minimum time spent sampling each task per round, in milliseconds. */
  time: number;
  /** Minimum number of samples of each task per round. */
  iterations: number;
  warmupTime: number;
  /**
   * Rounds of a group. Each round samples every task of the group in turn, so a load from
   * other processes that comes and goes falls on all of them alike.
   */
  rounds: number;
}

export const FULL: MeasureOptions = { time: 1000, iterations: 10, warmupTime: 300, rounds: 5 };
export const QUICK: MeasureOptions = { time: 250, iterations: 4, warmupTime: 100, rounds: 3 };

/** Options for calls that take a second or more, such as a batch run by a slow peer. */
export function forSlowCalls(options: MeasureOptions): MeasureOptions {
  return { time: 0, iterations: options === QUICK ? 2 : 3, warmupTime: 0, rounds: Math.min(options.rounds, 3) };
}

/** Untimed steps around one task's samples in each round and phase (warmup or run). */
export interface TaskHooks {
  beforeAll?: () => Promise<void> | void;
  afterAll?: () => Promise<void> | void;
}

/**
 * Times each task with tinybench in interleaved rounds and returns one latency summary per
 * task, over the samples of all rounds. Errors thrown by a task are rethrown.
 */
export async function measureGroup(tasks: Array<[string, () => unknown, TaskHooks?]>, options: MeasureOptions): Promise<Timing[]> {
  const { Bench } = await import('tinybench');
  const samples: number[][] = tasks.map(() => []);
  for (let round = 0; round < options.rounds; round++) {
    const bench = new Bench({
      time: options.time,
      iterations: options.iterations,
      warmup: round === 0,
      warmupTime: options.warmupTime,
      warmupIterations: options.warmupTime > 0 ? 2 : 1,
      retainSamples: true,
      throws: true,
    });
    for (const [name, fn, hooks] of tasks) bench.add(name, fn as () => Promise<void>, hooks);
    await bench.run();
    bench.tasks.forEach((task, i) => {
      const result = task.result;
      if (result.state !== 'completed' || !result.latency.samples) {
        throw new Error(`Benchmark "${task.name}" ended in state ${result.state}`);
      }
      samples[i].push(...result.latency.samples);
    });
  }
  return samples.map(summarise);
}

/** Times one task; see measureGroup. */
export async function measure(name: string, fn: () => unknown, options: MeasureOptions): Promise<Timing> {
  return (await measureGroup([[name, fn]], options))[0];
}

/** Summarises raw times in milliseconds: median, MAD and quantiles. */
export function summarise(values: number[]): Timing {
  const sorted = values.slice().sort((a, b) => a - b);
  const quantile = (q: number): number => {
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    const high = Math.ceil(position);
    return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
  };
  const median = quantile(0.5);
  const deviations = sorted.map((v) => Math.abs(v - median)).sort((a, b) => a - b);
  const madPosition = (deviations.length - 1) / 2;
  const mad = (deviations[Math.floor(madPosition)] + deviations[Math.ceil(madPosition)]) / 2;
  return { median, mad, min: sorted[0], p75: quantile(0.75), p99: quantile(0.99), samples: sorted.length };
}

/** Formats a timing as "median ± MAD ms (min x)". */
export function formatMs(t: Timing): string {
  let digits = 1;
  if (t.median < 10) digits = 3;
  else if (t.median < 100) digits = 2;
  return `${t.median.toFixed(digits)} ± ${t.mad.toFixed(digits)} ms (min ${t.min.toFixed(digits)})`;
}
