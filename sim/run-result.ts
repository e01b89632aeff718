// What one simulation run leaves: its summary, its per-second series and the world itself.
import type { Summary } from './summary.ts';
import type { World } from './world.ts';

export type RunResult = { summary: Summary; timeseries: string; world: World };
