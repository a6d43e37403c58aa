/** The --move/--to and --squash/--into flags: parsed into a repair request, and printed back for the apply line. */
import { DriftGuardError } from "./types.ts";

export interface HistoryRepairFlags {
  move?: string;
  to?: string;
  squash?: string[];
  into?: string[];
}

/**
 * The request fields for the flags given (none when neither --move nor --squash is).
 * @example historyRepairRequest({ move: "20260105093000", to: "20260102000000" }) // { move: { from: "20260105093000", to: "20260102000000" } }
 */
export function historyRepairRequest(flags: HistoryRepairFlags): { move?: { from: string; to: string }; squash?: { rows: string[]; into: string[] } } {
  if ((flags.move === undefined) !== (flags.to === undefined)) throw new DriftGuardError("usage", "--move and --to go together: --move <history version> --to <file version>");
  if ((flags.squash === undefined) !== (flags.into === undefined)) throw new DriftGuardError("usage", "--squash and --into go together: --squash <row versions…> --into <file versions…>");
  return {
    ...(flags.move !== undefined ? { move: { from: flags.move, to: flags.to! } } : {}),
    ...(flags.squash !== undefined ? { squash: { rows: flags.squash, into: flags.into! } } : {}),
  };
}

/**
 * The flags as the apply line repeats them, or null when neither is given.
 * @example historyRepairFlags({ squash: ["1", "2"], into: ["3"] }) // "--squash 1 2 --into 3"
 */
export function historyRepairFlags(flags: HistoryRepairFlags): string | null {
  if (flags.move !== undefined) return `--move ${flags.move} --to ${flags.to}`;
  if (flags.squash !== undefined && flags.into !== undefined) return `--squash ${flags.squash.join(" ")} --into ${flags.into.join(" ")}`;
  return null;
}
