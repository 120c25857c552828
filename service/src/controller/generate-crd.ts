// Writes the StreamRemediationPolicy CRD YAML (run as `npm run generate:crd`, from the package root).
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CRD_PATH, policyCrdYaml } from './crd.ts';

const target = resolve(process.cwd(), CRD_PATH);
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, policyCrdYaml());
console.log(`wrote ${CRD_PATH}`);
