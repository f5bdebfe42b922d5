// `npm run crds`: writes <plural>.yaml from crds.ts into crds/ and into the chart's operator crds/, so the
// YAML is never edited by hand and the two never drift (crds.test.ts checks both against crds.ts).
import fs from 'node:fs';
import path from 'node:path';
import { crdFileName, crdYaml, CRD_DIRECTORIES } from './crd-files.ts';
import { crds } from './crds.ts';

for (const directory of CRD_DIRECTORIES) {
  fs.mkdirSync(directory, { recursive: true });
  for (const definition of crds()) {
    const file = path.join(directory, crdFileName(definition));
    fs.writeFileSync(file, crdYaml(definition));
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}
