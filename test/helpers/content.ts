import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Resource, StructureDefinition } from '@medplum/fhirtypes';

/** Repository root. */
export const ROOT = resolve(__dirname, '../..');

/** One JSON content file. */
export interface ContentFile {
  /** Path relative to the content root, with `/`. */
  readonly path: string;
  readonly text: string;
  readonly resource: Resource;
}

/**
 * Every JSON file under the content folders of `root` (`profiles/` with `examples/`, `valuesets/`),
 * excluding `profiles/fsh/`. Missing folders give no files.
 * @param root - Folder holding `profiles/` and `valuesets/`.
 */
export function contentFiles(root: string = ROOT): ContentFile[] {
  const out: ContentFile[] = [];
  const visit = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const full = join(dir, name);
      const rel = relative(root, full).split('\\').join('/');
      if (statSync(full).isDirectory()) {
        if (rel !== 'profiles/fsh') {
          visit(full);
        }
      } else if (name.endsWith('.json')) {
        const text = readFileSync(full, 'utf8');
        out.push({ path: rel, text, resource: JSON.parse(text) as Resource });
      }
    }
  };
  visit(join(root, 'profiles'));
  visit(join(root, 'valuesets'));
  return out;
}

/** The shipped StructureDefinitions that are profiles or extensions (derivation constraint). */
export function shippedProfiles(root: string = ROOT): StructureDefinition[] {
  return contentFiles(root)
    .map((f) => f.resource)
    .filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition')
    .filter((sd) => sd.derivation === 'constraint' && !!sd.snapshot);
}
