// Non-fatal findings returned as admission warnings (kubectl prints them): a misspelt annotation or a
// per-secret setting for a secret that does not exist is silently ignored upstream, and is the most
// common reason a secret "does not show up".

import {
  A,
  ANNOTATION_PREFIX,
  ANNOTATION_TABLE,
  isKnownAnnotation,
  SECRET_DEFINING,
  type AnnotationKey,
} from './table.ts';

const PER_SECRET_PREFIXES = (Object.keys(ANNOTATION_TABLE) as AnnotationKey[])
  .filter((key) => ANNOTATION_TABLE[key].scope === 'secret' && !SECRET_DEFINING.includes(key))
  .map((key) => `${A[key]}-`);

/** The secret a per-secret annotation refers to, or undefined when `name` is not per-secret. */
function perSecretTarget(name: string): string | undefined {
  let longest: string | undefined;
  for (const prefix of PER_SECRET_PREFIXES) {
    if (name.startsWith(prefix) && (longest === undefined || prefix.length > longest.length)) longest = prefix;
  }
  return longest === undefined ? undefined : name.slice(longest.length);
}

export function annotationWarnings(
  annotations: ReadonlyMap<string, string>,
  secretRawNames: readonly string[],
): string[] {
  // [annotation, warning] pairs, sorted by annotation at the end (there are rarely any to sort).
  const found: [string, string][] = [];
  const secrets = new Set(secretRawNames);
  for (const name of annotations.keys()) {
    if (!name.startsWith(ANNOTATION_PREFIX) || isPodWide(name)) continue;
    if (!isKnownAnnotation(name)) {
      found.push([name, `${name} is not an annotation the Vault injector knows; it is ignored`]);
      continue;
    }
    const target = perSecretTarget(name);
    if (target !== undefined && !secrets.has(target)) {
      found.push([
        name,
        `${name} refers to secret "${target}", which no ${A.agentInjectSecret}-${target} or ${A.agentInjectTemplate}-${target} defines; it is ignored`,
      ]);
    }
  }
  return found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, warning]) => warning);
}

const POD_WIDE_NAMES = new Set(
  Object.values(ANNOTATION_TABLE)
    .filter((e) => e.scope === 'pod')
    .map((e) => ANNOTATION_PREFIX + e.name),
);

function isPodWide(name: string): boolean {
  return POD_WIDE_NAMES.has(name);
}
