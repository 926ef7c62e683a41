/**
 * A window feature: a code from DESIGN.md with its UCUM unit, the channels it reads, and a pure
 * function from the window's samples to a value. A feature whose inputs cover less of the window
 * than the minimum coverage is not emitted; the window's quality says how much was there.
 */

import type { ChannelWindow } from '../streams/subject-streams.js';

export type { ChannelWindow };

export interface WindowInput {
  readonly startMs: number;
  readonly endMs: number;
  /** Channel name -> its samples (absent when no device of the subject has that channel). */
  readonly channels: ReadonlyMap<string, ChannelWindow>;
}

export interface FeatureValue {
  readonly value: number;
  /** How many input values it was computed from (beats, samples, breaths). */
  readonly n: number;
  /** Fraction (0..1) of the window its inputs cover. */
  readonly coverage: number;
}

export interface FeatureDefinition {
  readonly code: string;
  readonly unit: string;
  /** With its system: 'LOINC:8867-4'. */
  readonly standardCode?: string;
  /** The channels it needs, all of them. */
  readonly channels: readonly string[];
  /** The value, or undefined when the inputs give none (too few beats, no breath found). */
  compute(input: WindowInput): FeatureValue | undefined;
}

/**
 * Samples present over samples expected at the nominal rate, at most 1. An event channel (a
 * broadcast sensor that speaks when it likes) has no expected count: any sample covers it.
 */
export function rateCoverage(ch: ChannelWindow, startMs: number, endMs: number): number {
  if (ch.rateHz === undefined) return ch.values.length > 0 ? 1 : 0;
  const expected = (ch.rateHz * (endMs - startMs)) / 1000;
  return expected > 0 ? Math.min(1, ch.values.length / expected) : 0;
}

/** The arithmetic mean of the values, or undefined for none. */
export function mean(values: Float32Array): number | undefined {
  if (values.length === 0) return undefined;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}
