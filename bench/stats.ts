/**
 * The statistic every bench reports: medians resist the outliers a loaded machine produces.
 *
 * @example median([3, 1, 2]) // 2
 */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
