// extension/tools/render-manifest.mjs — renders extension/manifest.template.json for one
// browser: the "common" keys merged with that browser's keys, ${VERSION} taken from the
// workspace Cargo.toml (the extension and host share one version) and ${DEV_KEY} from
// extension/dev-key.pub.b64 (the fixed public key that pins the dev extension id).
//
// Merging: objects merge key by key, arrays are joined (a browser's "permissions" add to
// the common ones), anything else in the browser's part replaces the common value.
//
// Usage: node extension/tools/render-manifest.mjs <chrome|firefox> <out/manifest.json>

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const extDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(extDir, '..');

function workspaceVersion() {
  const toml = fs.readFileSync(path.join(repoRoot, 'Cargo.toml'), 'utf8');
  const section = toml.split(/^\[workspace\.package\]\s*$/m)[1];
  const m = section && section.match(/^version\s*=\s*"([^"]+)"/m);
  if (!m) throw new Error('no version in [workspace.package] of Cargo.toml');
  return m[1];
}

function merge(base, extra) {
  const out = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    if (Array.isArray(v) && Array.isArray(out[k])) out[k] = [...new Set([...out[k], ...v])];
    else if (v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object') out[k] = merge(out[k], v);
    else out[k] = v;
  }
  return out;
}

export function renderManifest(browser) {
  const template = JSON.parse(fs.readFileSync(path.join(extDir, 'manifest.template.json'), 'utf8'));
  if (!template[browser]) throw new Error(`unknown browser "${browser}" (known: chrome, firefox)`);
  const vars = {
    VERSION: workspaceVersion(),
    DEV_KEY: fs.readFileSync(path.join(extDir, 'dev-key.pub.b64'), 'utf8').trim(),
  };
  const text = JSON.stringify(merge(template.common, template[browser]), null, 2).replace(/\$\{(\w+)\}/g, (_, name) => {
    if (!(name in vars)) throw new Error(`unknown placeholder \${${name}} in the manifest template`);
    return vars[name];
  });
  return JSON.parse(text);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [browser, out] = process.argv.slice(2);
  if (!browser || !out) {
    console.error('usage: render-manifest.mjs <chrome|firefox> <out/manifest.json>');
    process.exit(2);
  }
  fs.writeFileSync(out, JSON.stringify(renderManifest(browser), null, 2) + '\n');
}
