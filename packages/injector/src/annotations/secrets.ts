// The per-secret annotation families. A secret is defined by a non-blank `agent-inject-secret-<name>`,
// `agent-inject-template-file-<name>` or `agent-inject-template-<name>` (upstream's matching order);
// every other per-secret annotation is looked up as `<family>-<name>` with the name exactly as written.

import { destinationOf, mountPathValue, relativeFileValue } from './paths.ts';
import { createTemplateChecker } from './template-check.ts';
import type { AnnotationReader, Found } from './reader.ts';
import type { DefaultTemplate, SecretSpec } from './spec.ts';
import {
  A,
  ANNOTATION_FAMILIES,
  ANNOTATION_PREFIX,
  annotationFor,
  SECRET_DEFINING,
  type AnnotationKey,
} from './table.ts';
import type { Parsed } from '@vaultbridge/agent/contract';
import { boolValue, choiceValue, fileModeValue, valueSyntax } from './values.ts';

/** One per process (each admission worker has its own): see template-check.ts. */
const checkInlineTemplate = createTemplateChecker();

const templateKind = choiceValue(['map', 'json'] as const);
const templateEngineValue = choiceValue(['go', 'handlebars'] as const);
// A name the shell can export and every libc keeps: the env file is sourced by /bin/sh.
const envNameValue = valueSyntax((raw): Parsed<string> => {
  const name = raw.trim();
  return /^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)
    ? name
    : {
        rejected: true,
        expected: 'an environment variable name such as DB_PASSWORD (letters, digits, _; not starting with a digit)',
      };
});

export interface PodWideSecretSettings {
  readonly mountPath: string;
  readonly defaultTemplate: DefaultTemplate;
  readonly preserveCase: boolean;
}

/** Raw names of the secrets the pod defines, sorted so the output never depends on annotation order. */
const DEFINING_PREFIXES = SECRET_DEFINING.map((family) => `${A[family]}-`);

export function secretRawNames(annotations: ReadonlyMap<string, string>): string[] {
  const names = new Set<string>();
  for (const key of annotations.keys()) {
    if (!key.startsWith(ANNOTATION_PREFIX) || annotations.get(key)!.trim() === '') continue;
    for (const prefix of DEFINING_PREFIXES) {
      if (!key.startsWith(prefix)) continue;
      const rawName = key.slice(prefix.length);
      if (rawName === '') continue;
      names.add(rawName);
      break;
    }
  }
  return [...names].sort();
}

/**
 * The per-secret families the pod uses at all. A secret's ~14 lookups each built an annotation name,
 * and most pods set two or three families, so a family the pod never uses is answered without one.
 */
function familiesOf(annotations: ReadonlyMap<string, string>): ReadonlySet<AnnotationKey> {
  const families = new Set<AnnotationKey>();
  for (const name of annotations.keys()) {
    if (!name.startsWith(ANNOTATION_PREFIX)) continue;
    // An indexed loop over table.ts's list: a for-of over it would allocate an iterator per name.
    for (let i = 0; i < ANNOTATION_FAMILIES.length; i++) {
      const family = ANNOTATION_FAMILIES[i]!;
      if (name.startsWith(family.prefix)) families.add(family.key);
    }
  }
  return families;
}

type Families = ReadonlySet<AnnotationKey>;

function lookup(reader: AnnotationReader, families: Families, key: AnnotationKey, rawName: string): Found | undefined {
  if (!families.has(key)) return undefined;
  const name = annotationFor(key, rawName);
  const value = reader.pod.get(name);
  return value === undefined ? undefined : { name, value, source: 'pod' };
}

/** A per-secret value, treating "" as unset (upstream falls back to its default for empty values). */
function lookupNonEmpty(
  reader: AnnotationReader,
  families: Families,
  key: AnnotationKey,
  rawName: string,
): Found | undefined {
  const found = lookup(reader, families, key, rawName);
  return found === undefined || found.value === '' ? undefined : found;
}

function readSecret(
  reader: AnnotationReader,
  families: Families,
  rawName: string,
  podWide: PodWideSecretSettings,
): SecretSpec | undefined {
  const issuesBefore = reader.issues.length;
  const preserveFound = lookup(reader, families, 'preserveSecretCaseSecret', rawName);
  const preserveCase =
    preserveFound === undefined ? podWide.preserveCase : (reader.parseFound(preserveFound, boolValue) ?? false);
  const name = preserveCase ? rawName : rawName.toLowerCase();

  const vaultPath = lookup(reader, families, 'agentInjectSecret', rawName)?.value.trim() || undefined;
  const template = lookup(reader, families, 'agentInjectTemplate', rawName)?.value;
  const inlineTemplate = template !== undefined && template.trim() !== '' ? template : undefined;
  const templateFile =
    inlineTemplate === undefined
      ? lookup(reader, families, 'agentInjectTemplateFile', rawName)?.value.trim() || undefined
      : undefined;

  const mountFound = lookupNonEmpty(reader, families, 'secretVolumePathSecret', rawName);
  const mountPath = mountFound === undefined ? podWide.mountPath : reader.parseFound(mountFound, mountPathValue);

  const fileFound = lookupNonEmpty(reader, families, 'agentInjectFile', rawName);
  const file =
    fileFound === undefined
      ? reader.parseFound({ name: definingAnnotation(reader, rawName), value: name, source: 'pod' }, relativeFileValue)
      : reader.parseFound(fileFound, relativeFileValue);

  const permsFound = lookupNonEmpty(reader, families, 'agentInjectPerms', rawName);
  const perms = permsFound === undefined ? undefined : reader.parseFound(permsFound, fileModeValue);

  const defaultTemplateFound = lookupNonEmpty(reader, families, 'agentInjectDefaultTemplateSecret', rawName);
  const defaultTemplate =
    defaultTemplateFound === undefined
      ? podWide.defaultTemplate
      : reader.parseFound(defaultTemplateFound, templateKind);

  const missingKeyFound = lookup(reader, families, 'errorOnMissingKey', rawName);
  const errorOnMissingKey = missingKeyFound === undefined ? false : reader.parseFound(missingKeyFound, boolValue);

  const engineFound = lookupNonEmpty(reader, families, 'templateEngineSecret', rawName);
  const templateEngine = engineFound === undefined ? undefined : reader.parseFound(engineFound, templateEngineValue);
  const leftDelimiter = lookupNonEmpty(reader, families, 'agentTemplateLeftDelim', rawName)?.value ?? '{{';
  const rightDelimiter = lookupNonEmpty(reader, families, 'agentTemplateRightDelim', rawName)?.value ?? '}}';
  if (inlineTemplate !== undefined && errorOnMissingKey !== undefined) {
    // The agent's own compile: vault-k8s only finds a broken template in the pod; we deny the pod.
    const problem = checkInlineTemplate({
      name,
      text: inlineTemplate,
      leftDelimiter,
      rightDelimiter,
      errorOnMissingKey,
      ...(templateEngine === undefined ? {} : { templateEngine }),
    });
    if (problem !== undefined) {
      const where =
        problem.line === undefined
          ? ''
          : ` at line ${problem.line}${problem.column === undefined ? '' : `, column ${problem.column}`}`;
      reader.fail(
        annotationFor('agentInjectTemplate', rawName),
        `the template does not parse${where}: ${problem.reason}`,
      );
    }
  }

  if (
    reader.issues.length > issuesBefore ||
    mountPath === undefined ||
    file === undefined ||
    defaultTemplate === undefined ||
    errorOnMissingKey === undefined
  ) {
    return undefined;
  }
  const command = lookupNonEmpty(reader, families, 'agentInjectCommand', rawName)?.value;
  const envFound = lookupNonEmpty(reader, families, 'agentInjectEnv', rawName);
  const env = envFound === undefined ? undefined : reader.parseFound(envFound, envNameValue);
  if (envFound !== undefined && env === undefined) return undefined;
  return {
    rawName,
    name,
    ...(vaultPath === undefined ? {} : { vaultPath }),
    ...(inlineTemplate === undefined ? {} : { template: inlineTemplate }),
    ...(templateFile === undefined ? {} : { templateFile }),
    defaultTemplate,
    mountPath,
    file,
    destination: destinationOf(mountPath, file),
    ...(perms === undefined ? {} : { perms }),
    ...(command === undefined ? {} : { command }),
    leftDelimiter,
    rightDelimiter,
    errorOnMissingKey,
    ...(templateEngine === undefined ? {} : { templateEngine }),
    ...(env === undefined ? {} : { env }),
  };
}

/** The annotation that defined a secret, for messages about the secret itself. */
function definingAnnotation(reader: AnnotationReader, rawName: string): string {
  for (const family of SECRET_DEFINING) {
    const name = annotationFor(family, rawName);
    if (reader.pod.has(name)) return name;
  }
  return annotationFor('agentInjectSecret', rawName);
}

export function readSecrets(reader: AnnotationReader, podWide: PodWideSecretSettings): SecretSpec[] {
  const secrets: SecretSpec[] = [];
  const byDestination = new Map<string, SecretSpec>();
  const families = familiesOf(reader.pod);
  for (const rawName of secretRawNames(reader.pod)) {
    const secret = readSecret(reader, families, rawName, podWide);
    if (secret === undefined) continue;
    const clash = byDestination.get(secret.destination);
    if (clash !== undefined) {
      // Upstream lets both templates write the same file (e.g. FOO and foo after lower-casing).
      reader.fail(
        definingAnnotation(reader, rawName),
        `renders to ${secret.destination}, as secret "${clash.rawName}" does; give one of them another agent-inject-file`,
      );
      continue;
    }
    byDestination.set(secret.destination, secret);
    const sameEnv = secret.env === undefined ? undefined : secrets.find((other) => other.env === secret.env);
    if (sameEnv !== undefined) {
      reader.fail(
        annotationFor('agentInjectEnv', rawName),
        `names the variable ${secret.env ?? ''}, as secret "${sameEnv.rawName}" does; each variable comes from one secret`,
      );
      continue;
    }
    secrets.push(secret);
  }
  return secrets;
}
