// The function sets templates are parsed with, by name.
import type { FuncMap } from './func.ts';

export type FuncSetName = 'none';

/** The builtins only ('none'); more sets are added as they are implemented. */
export const FUNC_SETS: Readonly<Record<string, FuncMap | undefined>> = { none: undefined };
