import type { MemoryBudget } from './memory-budget';

/** How the queue learns the memory budget and the process's RSS; see {@link admits}. */
export interface MemoryAdmission {
  /** The budget, or null for none (enable_memory_optimization off); read at every admission. */
  budget(): MemoryBudget | null;
  /** The process's RSS now, in MiB: read as the baseline whenever no task is in flight. */
  rssMb(): number;
  /**
   * What the daemon holds at rest, in MiB, beside which every task runs: a task whose estimate
   * does not fit in the budget beside it could only run past the budget, and is refused. A fixed
   * figure, not the RSS read now, which may still hold what the last image left. @default 0
   */
  restMb?: number;
}

/** What an admission is decided on. */
export interface AdmissionState {
  /** Tasks in flight. */
  running: number;
  /** At most this many at once: one per core. */
  concurrency: number;
  /** The memory budget, the RSS with nothing in flight, and the estimates of the tasks in flight; null for none. */
  budget: { budgetMb: number; baselineMb: number; inFlightMb: number } | null;
  /** The estimated working set of the task asking to start, in MiB. */
  costMb: number;
}

/**
 * Whether a task may start now. Alone, it always may, even when the RSS at rest and its estimate
 * exceed the budget together (a task that could never fit was refused before it queued).
 * Beside others: while a core is free and the baseline plus the estimates in flight plus its own
 * stay within the budget. So a budget with room for one image processes one at a time, exactly as
 * before the budget existed.
 */
export function admits(state: AdmissionState): boolean {
  if (state.running === 0) return true;
  if (state.running >= state.concurrency) return false;
  if (!state.budget) return true;
  const { budgetMb, baselineMb, inFlightMb } = state.budget;
  return baselineMb + inFlightMb + state.costMb <= budgetMb;
}
